package chart

import (
	"slices"
	"testing"
)

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (LogTicks{}).Ticks(4, 60) {
		if tk.Value < 4 || tk.Value > 60 {
			t.Errorf("tick %v outside [4, 60]", tk.Value)
		}
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"5", "10", "20", "50"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if (LogTicks{}).Ticks(0, 10) != nil {
		t.Error("ticks for a range that includes 0")
	}
}
