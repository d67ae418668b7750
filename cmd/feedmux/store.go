package main

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/sqlite"
)

// openStore opens the configured store: PostgreSQL when [storage] url
// (FEEDMUX_DB_URL) is set, else the SQLite file at [storage] path; with
// the configured retention either way.
func openStore(ctx context.Context, cfg Config, instance string) (feedmux.Store, error) {
	if cfg.Storage.URL != "" {
		db, err := postgres.Open(ctx, cfg.Storage.URL)
		if err != nil {
			return nil, err
		}
		db.Retention = cfg.Retention()
		db.Instance = instance
		return db, nil
	}
	db, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return nil, err
	}
	db.Retention = cfg.Retention()
	return db, nil
}

// storeName names the store in the log, without a password.
func storeName(cfg Config) string {
	if cfg.Storage.URL == "" {
		return cfg.Storage.Path
	}
	u, err := url.Parse(cfg.Storage.URL)
	if err != nil {
		return "postgres"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// instanceName names this process among those sharing a database: the
// host name and the process id.
func instanceName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
