package main

// The outputs of a run: Markdown on stdout, the files in -out.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// writeOutputs prints the Markdown to stdout and writes every file.
func writeOutputs(o *options, res *Results, stdout io.Writer) error {
	if err := writeMarkdown(stdout, res); err != nil {
		return err
	}
	type file struct {
		path  string
		write func(io.Writer, *Results) error
	}
	var files []file
	if o.out != "none" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		files = append(files,
			file{filepath.Join(o.out, "report.md"), writeMarkdown},
			file{filepath.Join(o.out, "results.json"), writeJSON},
			file{filepath.Join(o.out, "results.csv"), writeCSV},
			file{filepath.Join(o.out, "bench.txt"), writeBenchfmt},
		)
	}
	for _, f := range []file{{o.jsonFile, writeJSON}, {o.csvFile, writeCSV}, {o.benchFile, writeBenchfmt}} {
		if f.path != "" {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if err := writeFile(f.path, res, f.write); err != nil {
			return err
		}
	}
	if o.out != "none" && (len(res.Samples) > 0 || res.Calls != nil) {
		charts, err := writeCharts(o.out, res)
		if err != nil {
			return err
		}
		slog.Info("results written", "dir", o.out, "charts", len(charts))
	}
	return nil
}

func writeFile(path string, res *Results, write func(io.Writer, *Results) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
