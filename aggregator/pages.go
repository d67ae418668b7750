package aggregator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmux/feedmux"
)

// DefaultPageWorkers is how many article pages are fetched at once.
const DefaultPageWorkers = 4

// Page fetch attempts: an item's page is tried maxPageTries times, the
// n-th retry pageRetry × 10^(n-1) after the failure before it.
const (
	maxPageTries = 3
	pageRetry    = time.Minute
	pageBatch    = 32
)

// Pages fetches the pages that the items of full_content feeds link to,
// beside polling: a poll stores its items at once and wakes it; the
// article arrives when it is fetched. The queue is the database's
// (items.page_state), so a restart loses none. Fetches go through the
// network guard and obey robots.txt.
type Pages struct {
	fetcher atomic.Pointer[Fetcher] // guarded: see FetcherConfig.Guard
	robots  *robots
	workers int
	wake    chan struct{}

	// OnPage, when set, is called after every page attempt: whether the
	// page was fetched, and how long extraction took.
	OnPage func(feed feedmux.Feed, fetched bool, extract time.Duration)

	mu    sync.Mutex
	allow []string // see SetFetcher
}

// NewPages returns a page fetcher that uses fetcher (which should have a
// Guard, allowing allowNetworks as configured) with at most workers
// fetches at once.
func NewPages(fetcher *Fetcher, allowNetworks []string, workers int) *Pages {
	pg := &Pages{robots: newRobots(), workers: max(workers, 1), wake: make(chan struct{}, 1)}
	pg.SetFetcher(fetcher, allowNetworks)
	return pg
}

// SetFetcher replaces the client, for a configuration reload, and records
// the networks its guard allows, as configured.
func (pg *Pages) SetFetcher(f *Fetcher, allowNetworks []string) {
	pg.fetcher.Store(f)
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.allow = allowNetworks
}

// AllowNetworks are the networks given with the last SetFetcher.
func (pg *Pages) AllowNetworks() []string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return pg.allow
}

// count reports one page attempt to OnPage. (What a feed's pages came to
// is in the database: storage.FeedState's Pages.)
func (pg *Pages) count(feed feedmux.Feed, fetched bool, extract time.Duration) {
	if pg.OnPage != nil {
		pg.OnPage(feed, fetched, extract)
	}
}

func (pg *Pages) poke() {
	select {
	case pg.wake <- struct{}{}:
	default:
	}
}

// runPages works through the due pages until ctx ends.
func (p *Poller) runPages(ctx context.Context) {
	pg := p.Pages
	for ctx.Err() == nil {
		jobs, err := p.db.DuePages(ctx, p.Now(), pageBatch)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("pages", "err", err)
		}
		wait := time.Hour
		switch {
		case err != nil:
			wait = cmp.Or(p.StorageRetry, DefaultStorageRetry)
		case len(jobs) > 0:
			if p.pageBatch(ctx, jobs) < len(jobs) {
				continue
			}
			// Every job failed without being recorded (the database cannot
			// be written, say): they are still due, so wait a little rather
			// than fetch them again at once.
			wait = cmp.Or(p.StorageRetry, DefaultStorageRetry)
		default:
			if due, ok, err := p.db.NextPageDue(ctx); err == nil && ok {
				wait = max(due.Sub(p.Now()), time.Second)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-pg.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// pageBatch fetches the jobs' pages, Workers at a time and PerHost to one
// host, and returns how many ended in an error that left them due.
func (p *Poller) pageBatch(ctx context.Context, jobs []feedmux.PageJob) int {
	limit := newLimiter(p.Pages.workers, p.perHost())
	var (
		wg     sync.WaitGroup
		failed atomic.Int32
	)
	for _, j := range jobs {
		slot := limit.slot(hostOf(j.Item.URL))
		wg.Add(1)
		go func() {
			defer wg.Done()
			slot.acquire()
			defer slot.release()
			if err := p.page(ctx, j); err != nil && ctx.Err() == nil {
				if errors.Is(err, errUnrecorded) {
					failed.Add(1)
				}
				p.log.Warn("page", "feed", j.FeedURL, "item", j.Item.URL, "err", err)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

// errUnrecorded marks a page job whose outcome could not be stored.
var errUnrecorded = errors.New("not recorded")

// errGiveUp marks a page failure that trying again will not mend.
var errGiveUp = errors.New("not retried")

// page fetches one item's page (or applies its stored page again) and
// stores what it gives. A failure is recorded for a retry, or for good.
func (p *Poller) page(ctx context.Context, j feedmux.PageJob) error {
	feed, ok := p.feed(j.FeedURL)
	if j.Reapply {
		return p.applyPage(ctx, feed, j, feedmux.PageUpdate{Article: j.Article, Meta: j.Meta})
	}
	if !ok || !feed.FullContent {
		if err := p.db.PageFailed(ctx, j.ID, p.Now(), true); err != nil {
			return fmt.Errorf("%w: %w", errUnrecorded, err)
		}
		return nil
	}
	article, meta, took, err := p.fetchArticle(ctx, feed, j.Item.URL)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopping: the job stays due
		}
		p.Pages.count(feed, false, took)
		giveUp := errors.Is(err, errGiveUp) || j.Tries+1 >= maxPageTries
		retry := p.Now().Add(pageRetry * time.Duration(pow10(j.Tries)))
		if ferr := p.db.PageFailed(ctx, j.ID, retry, giveUp); ferr != nil {
			return fmt.Errorf("%w: %w", errUnrecorded, ferr)
		}
		return err
	}
	p.Pages.count(feed, true, took)
	return p.applyPage(ctx, feed, j, feedmux.PageUpdate{Article: article, Meta: meta, Extract: took})
}

// fetchArticle fetches the page at link and extracts its article and what
// it says about itself.
func (p *Poller) fetchArticle(ctx context.Context, feed feedmux.Feed, link string) (string, feedmux.PageMeta, time.Duration, error) {
	fetcher := p.Pages.fetcher.Load()
	u, err := url.Parse(link)
	if err != nil || !isHTTPURL(link) {
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: no page link (%q)", errGiveUp, link)
	}
	if !p.Pages.robots.allowed(ctx, fetcher, u, p.Now()) {
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: %w", errGiveUp, ErrRobots)
	}
	resp, err := fetcher.FetchPage(ctx, link)
	var se *StatusError
	switch {
	case errors.Is(err, ErrBlockedAddress), errors.Is(err, ErrBodyTooLarge):
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: %w", errGiveUp, err)
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500 && se.Code != http.StatusTooManyRequests:
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: %w", errGiveUp, err)
	case err != nil:
		return "", feedmux.PageMeta{}, 0, err
	}
	if !looksLikeHTML(resp.Body, resp.ContentType) {
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: not an HTML page (%s)", errGiveUp, resp.ContentType)
	}
	base, err := url.Parse(resp.URL)
	if err != nil {
		return "", feedmux.PageMeta{}, 0, fmt.Errorf("%w: %w", errGiveUp, err)
	}
	p.cpu <- struct{}{} // extraction is CPU work, like parsing
	defer func() { <-p.cpu }()
	start := time.Now()
	article, meta := extractArticle(toUTF8(resp.Body, resp.ContentType), base, feed.Remove)
	article = feedmux.SafeHTML(article, base)
	return article, meta, time.Since(start), nil
}

// applyPage puts what the page gave on the item as its feed gave it: the
// page's topics as categories (when the feed's categories are on), its
// author, date and image where the feed gave none, and the tags these make.
func (p *Poller) applyPage(ctx context.Context, feed feedmux.Feed, j feedmux.PageJob, u feedmux.PageUpdate) error {
	it, meta := j.Item, u.Meta
	if feed.Categories {
		it.Categories = categories(append(it.Categories, meta.Categories...))
	}
	if it.Author == "" {
		it.Author = meta.Author
	}
	if it.Published.IsZero() {
		it.Published = plausible(&meta.Published, p.Now())
	}
	if meta.Image != "" && !hasImage(it.Enclosures) {
		it.Enclosures = append(it.Enclosures, feedmux.Enclosure{URL: meta.Image, Type: imageType(meta.Image)})
	}
	it.Tags = p.tagger.Load().Tags(feed, &it)
	u.Item = it
	changed, err := p.db.SavePage(ctx, j.ID, u)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnrecorded, err)
	}
	if len(changed) > 0 && p.OnChange != nil {
		p.OnChange(changed)
	}
	return nil
}

// feed is the configured feed with that URL.
func (p *Poller) feed(u string) (feedmux.Feed, bool) {
	feeds := p.Feeds()
	for i := range feeds { // by index: a Feed is a large value, and there may be thousands
		if feeds[i].URL == u {
			return feeds[i], true
		}
	}
	return feedmux.Feed{}, false
}

func pow10(n int) int {
	out := 1
	for range n {
		out *= 10
	}
	return out
}

// Fetcher is the client pages are fetched with.
func (pg *Pages) Fetcher() *Fetcher { return pg.fetcher.Load() }
