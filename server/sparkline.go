package server

import (
	"fmt"
	"html/template"
	"strings"
)

// sparkDays is how many days the sparklines show.
const sparkDays = 14

// sparkline draws counts (oldest first) as a small inline SVG: a line
// with a faint area under it, in the text colour so that it follows the
// page's light or dark scheme. It needs no script and no outside file.
func sparkline(counts []int, label string) template.HTML {
	if len(counts) == 0 {
		counts = make([]int, sparkDays)
	}
	const w, h, pad = 112.0, 24.0, 2.0
	peak, total := 1, 0
	for _, c := range counts {
		peak = max(peak, c)
		total += c
	}
	step := (w - 2*pad) / float64(max(len(counts)-1, 1))
	var pts strings.Builder
	for i, c := range counts {
		x := pad + float64(i)*step
		y := h - pad - float64(c)/float64(peak)*(h-2*pad)
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, y)
	}
	line := strings.TrimSpace(pts.String())
	area := fmt.Sprintf("%.1f,%.1f %s %.1f,%.1f", pad, h-pad, line, w-pad, h-pad)
	title := fmt.Sprintf("%s: %d items in the last %d days, at most %d a day", label, total, len(counts), peak)
	if total == 0 {
		title = fmt.Sprintf("%s: no items in the last %d days", label, len(counts))
	}
	svg := fmt.Sprintf(`<svg class="spark" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`+
		`<title>%s</title><polygon points="%s" fill="currentColor" fill-opacity=".15"/>`+
		`<polyline points="%s" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/></svg>`,
		w, h, w, h, template.HTMLEscapeString(title), template.HTMLEscapeString(title), area, line)
	return template.HTML(svg)
}
