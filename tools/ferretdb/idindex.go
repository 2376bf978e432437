package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB v1.24's SQLite backend indexes each collection's _id as `_ferretdb_sjson->"_id"` but looks
// documents up by `_ferretdb_sjson->'$._id'`. SQLite matches index expressions as written, so every
// lookup by _id scans the whole table: 160 ms a lookup at 50,000 documents, and a page of 500 log events
// took 29 s. keepIDIndexes adds an index on the expression the lookups use to every collection table,
// and again to tables created later (FerretDB creates a collection on its first write).

const idIndexSuffix = "_tradeflow_id"

// keepIDIndexes indexes the tables of every database in dir now, then every `every` until ctx ends.
func keepIDIndexes(ctx context.Context, dir string, every time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexIDs(ctx, file); err != nil && ctx.Err() == nil {
				logger.Debug("cannot index _id lookups yet", "file", file, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// indexIDs adds the _id lookup index to each collection table of one database file that lacks it.
func indexIDs(ctx context.Context, file string) error {
	// mode=rw: a database dropped meanwhile must not be created again, empty, by this check.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer func() {
		db.Close()
		// A database dropped while this check had it open leaves its -wal and -shm files behind.
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			os.Remove(file + "-wal")
			os.Remove(file + "-shm")
		}
	}()
	rows, err := db.QueryContext(ctx, `
		SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table' AND t.name NOT LIKE '\_ferretdb\_%' ESCAPE '\'
		AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || ?)`, idIndexSuffix)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+idIndexSuffix, table)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// sqliteDir is the folder of a FerretDB SQLite URL such as `file:/data/?_pragma=...`.
func sqliteDir(sqliteURL string) (string, error) {
	u, err := url.Parse(sqliteURL)
	if err != nil {
		return "", err
	}
	dir := u.Opaque
	if dir == "" {
		dir = u.Path
	}
	if dir == "" {
		return "", fmt.Errorf("no folder in %q", sqliteURL)
	}
	return strings.TrimSuffix(dir, "/"), nil
}
