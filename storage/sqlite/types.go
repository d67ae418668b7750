package sqlite

import "github.com/feedmux/feedmux"

// The store's values live in the root package, beside the domain types;
// here they keep their short names.
type (
	StoryRow     = feedmux.StoryRow
	Grouping     = feedmux.Grouping
	WriteHealth  = feedmux.WriteHealth
	ItemFilter   = feedmux.ItemFilter
	Cursor       = feedmux.Cursor
	ItemPage     = feedmux.ItemPage
	SaveResult   = feedmux.SaveResult
	NewItem      = feedmux.NewItem
	PageMeta     = feedmux.PageMeta
	PageJob      = feedmux.PageJob
	PageUpdate   = feedmux.PageUpdate
	Retention    = feedmux.Retention
	PruneResult  = feedmux.PruneResult
	Story        = feedmux.Story
	StoryPage    = feedmux.StoryPage
	StorySummary = feedmux.StorySummary
	RetagRow     = feedmux.RetagRow
)

// The SQLite store is a whole feedmux.Store.
var _ feedmux.Store = (*DB)(nil)
