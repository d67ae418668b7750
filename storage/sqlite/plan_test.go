package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestItemPageQuery_Plan checks that a tag page is a range scan of the tag
// index, not a scan of every item of the tag.
func TestItemPageQuery_Plan(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct {
		name           string
		tags, excluded []string
	}{
		{"one tag", []string{"a"}, nil},
		{"two tags", []string{"a", "b"}, nil},
		{"tag with exclusions", []string{"a"}, []string{"p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := itemPageQuery(tc.tags, tc.excluded, Cursor{Time: 100, ID: 5}, 50, walkSearch{})
			text := queryPlan(t, db, query, args...)
			want := "SEARCH t USING COVERING INDEX item_tags_by_time (tag=? AND (sort_time,item_id)<(?,?))"
			if strings.Count(text, want) != len(tc.tags) || strings.Contains(text, "USE TEMP B-TREE FOR ORDER BY") && len(tc.tags) == 1 {
				t.Errorf("plan does not range-scan the tag index once per tag:\n%s", text)
			}
		})
	}
}

// TestSearchQuery_Plan checks the three ways a search page is read: few
// matches from the index, sorted; many by walking the time index of the
// items or of the tag.
func TestSearchQuery_Plan(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	before := Cursor{Time: 100, ID: 5}
	few := func() (string, []any) { return searchFewQuery(nil, []string{"p"}, before, 50, `"x"`) }
	walk := func(tags []string, probe bool) func() (string, []any) {
		return func() (string, []any) {
			return itemPageQuery(tags, []string{"p"}, before, 50, walkSearch{match: `"x"`, probe: probe})
		}
	}
	for _, tc := range []struct {
		name  string
		query func() (string, []any)
		want  []string
	}{
		{"few", few, []string{"SCAN items_search VIRTUAL TABLE", "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)"}},
		{"many", walk(nil, false), []string{"SEARCH i USING INDEX items_by_time (sort_time<?)", "LIST SUBQUERY"}},
		{"dense", walk(nil, true), []string{"SEARCH i USING INDEX items_by_time (sort_time<?)", "SCAN items_search EXISTS VIRTUAL TABLE INDEX 0:=M"}},
		{"many of a tag", walk([]string{"a"}, false), []string{"SEARCH t USING COVERING INDEX item_tags_by_time (tag=? AND (sort_time,item_id)<(?,?))", "LIST SUBQUERY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := tc.query()
			text := queryPlan(t, db, query, args...)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan lacks %q:\n%s", w, text)
				}
			}
			if tc.name != "few" && strings.Contains(text, "TEMP B-TREE FOR ORDER BY") {
				t.Errorf("a walk sorts:\n%s", text)
			}
		})
	}
}

// TestStoryTagsQuery_Plan checks that reading the tags of the stories a
// grouping changed looks each id up in the keys of item_tags and
// story_tags, rather than scanning either.
func TestStoryTagsQuery_Plan(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	text := queryPlan(t, db, storyTagsSQL, "[1, 2]")
	for _, want := range []string{"SEARCH item_tags USING", "(item_id=?)", "SEARCH story_tags USING", "(story_id=?)"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "SCAN item_tags") || strings.Contains(text, "SCAN story_tags") {
		t.Errorf("plan scans a table:\n%s", text)
	}
}

// queryPlan is SQLite's plan of query, a step a line.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
