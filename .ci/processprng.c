/*
 * processprng.c: bcryptprimitives.dll for wine 8.0, which lacks it. Go 1.22
 * and later load ProcessPrng from it at start-up; this one forwards to
 * BCryptGenRandom, which wine has. Built and installed in the wine prefix
 * by .ci/wine-prefix (newer wine ships the DLL). CI tooling: no part of
 * selectc.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	return BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG));
}
