package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/datagen"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/store/sqlite"
)

// generate fills a data folder with a large synthetic population, straight
// into the store (SQLite, or PostgreSQL with --store): the way to build
// the million-image data set quickly.
func generate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	cfg := storeFlags(fs)
	config := fs.String("config", env("AMIGO_CONFIG", ""), "bootstrap file: its accounts own the first images, its organizations and OUs receive grants")
	images := fs.Int("images", 100000, "number of images")
	accounts := fs.Int("accounts", 1000, "number of owner accounts (the bootstrap file's first, then synthetic ones)")
	region := fs.String("region", "us-east-1", "region of the images")
	shared := fs.Float64("shared", 0.3, "fraction of images with launch permissions")
	public := fs.Float64("public", 0.001, "fraction of public images")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := account.Default()
	if *config != "" {
		d, err := account.Load(*config)
		if err != nil {
			return err
		}
		dir = d
	}
	o := datagen.Options{Region: *region, Images: *images, SharedFraction: *shared, PublicFraction: *public, Seed: *seed}
	for _, a := range dir.Accounts() {
		if acct, ok := dir.Account(a); ok && len(acct.Keys) > 0 {
			o.Accounts = append(o.Accounts, a)
		}
	}
	for i := 0; len(o.Accounts) < *accounts; i++ {
		o.Accounts = append(o.Accounts, fmt.Sprintf("9%011d", i))
	}
	for _, org := range dir.Organizations() {
		o.OrgARNs = append(o.OrgARNs, org.ARN)
		for _, ou := range org.OUs {
			o.OUARNs = append(o.OUARNs, ou.ARN)
		}
	}
	var st instance.Store
	var err error
	if cfg.Store != "" {
		st, err = app.OpenStore(context.Background(), *cfg) // PostgreSQL
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return err
		}
		st, err = sqlite.Open(filepath.Join(cfg.DataDir, "amigo.db"), sqlite.DefaultOptions())
	}
	if err != nil {
		return err
	}
	start := time.Now()
	o.Progress = func(done int) {
		el := time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "\r%d/%d images, %.0f/s", done, *images, float64(done)/el)
	}
	o.Batch = 5000
	if err := datagen.Generate(context.Background(), st, o); err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fi, _ := os.Stat(filepath.Join(cfg.DataDir, "amigo.db"))
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(os.Stderr, "\n%d images for %d accounts in %s in %s; database %.1f MB\n", *images, len(o.Accounts), *region, time.Since(start).Round(time.Millisecond), float64(size)/1e6)
	return nil
}
