package aggregator

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"
)

var updateModel = flag.Bool("update", false, "rewrite story_model.json from testdata/stories/train.tsv.gz")

// TestStoryModel learns the join decision from train.tsv, each of its
// windows replayed as a stream of its own, and checks that it is the model
// story_model.json holds: the file is what this program makes of the data.
// With -update it writes the file.
func TestStoryModel(t *testing.T) {
	items := readStories(t, "testdata/stories/train.tsv.gz")
	var samples []joinSample
	windows := 0
	for _, w := range windowNames(items) {
		var stream []labelled
		for _, it := range items {
			if it.Window == w {
				stream = append(stream, it)
			}
		}
		samples = append(samples, joinSamples(stream)...)
		windows++
	}
	positive := 0
	for _, s := range samples {
		positive += int(s.joined)
	}
	m := storyModel{Weights: fitLogistic(samples),
		Trained: fmt.Sprintf("train.tsv: %d items in %d windows; %d candidate stories, %d of them right", len(items), windows, len(samples), positive)}
	for k, w := range m.Weights {
		m.Weights[k] = math.Round(w*1e6) / 1e6
	}
	t.Logf("%s; weights %v", m.Trained, m.Weights)
	if *updateModel {
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("story_model.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for k, w := range m.Weights {
		if math.Abs(w-defaultStoryModel.Weights[k]) > 1e-3 {
			t.Errorf("weight %d: learned %v, story_model.json has %v (go test ./aggregator -run TestStoryModel -update rewrites it)", k, w, defaultStoryModel.Weights[k])
		}
	}
}

func windowNames(items []labelled) []string {
	var names []string
	for _, it := range items {
		if !slices.Contains(names, it.Window) {
			names = append(names, it.Window)
		}
	}
	slices.Sort(names)
	return names
}

// joinSample is the features of one candidate story of an item, and
// whether the item belongs to it.
type joinSample struct {
	f      joinFeatures
	joined float64
}

// joinSamples replays a stream with every item placed in its gold story
// (teacher forcing) and records, before each item is added, every
// candidate story the grouper would weigh for it.
func joinSamples(items []labelled) []joinSample {
	g := NewGrouper(DefaultStoryConfig)
	first := map[string]int64{} // gold story: the id it has in the grouper
	var out []joinSample
	for _, it := range items {
		d := g.newDoc(it.StoryItem)
		own, ok := first[it.Gold]
		for s, f := range g.features(d) {
			y := 0.0
			if ok && s == own {
				y = 1
			}
			out = append(out, joinSample{f, y})
		}
		if !ok {
			own = it.ID
			first[it.Gold] = own
		}
		d.story = own
		g.insert(d)
	}
	return out
}

// fitLogistic fits a logistic regression by Newton's method, with a small
// ridge penalty so that the steps stay defined.
func fitLogistic(samples []joinSample) joinFeatures {
	var w joinFeatures
	m := storyModel{}
	ridge := 1e-6 * float64(len(samples))
	for range 25 {
		var grad joinFeatures
		var hess [numFeatures][numFeatures]float64
		m.Weights = w
		for _, s := range samples {
			p := m.probability(s.f)
			for k := range numFeatures {
				grad[k] += (p - s.joined) * s.f[k]
				for l := range numFeatures {
					hess[k][l] += p * (1 - p) * s.f[k] * s.f[l]
				}
			}
		}
		for k := range numFeatures {
			grad[k] += ridge * w[k]
			hess[k][k] += ridge
		}
		step := solve(hess, grad)
		for k := range w {
			w[k] -= step[k]
		}
	}
	return w
}

// solve solves a x = b by Gaussian elimination with partial pivoting.
func solve(a [numFeatures][numFeatures]float64, b joinFeatures) joinFeatures {
	for c := range numFeatures {
		p := c
		for r := c + 1; r < numFeatures; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < numFeatures; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < numFeatures; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x joinFeatures
	for r := numFeatures - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < numFeatures; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x
}
