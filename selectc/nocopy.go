package selectc

// noCopy, as a field, makes go vet's copylocks check report every copy of
// the struct that holds it (the same trick as sync.WaitGroup's). A copied
// Poller or Loop would share the original's C state but not its lock or
// flags, so a Close through one copy would leave the other calling into C
// memory it no longer guards. Its methods exist only for vet.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
