package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/amigo-ec2/amigo/internal/account"
	"github.com/amigo-ec2/amigo/internal/app"
	"github.com/amigo-ec2/amigo/internal/dump"
)

// storeFlags are the flags that say which store a command works on.
func storeFlags(fs *flag.FlagSet) *app.Config {
	cfg := &app.Config{}
	fs.StringVar(&cfg.DataDir, "data", env("AMIGO_DATA", "./amigo-data"), "folder of the SQLite store (AMIGO_DATA)")
	fs.StringVar(&cfg.Store, "store", env("AMIGO_STORE", ""), "a postgres:// URL instead of --data (AMIGO_STORE)")
	return cfg
}

func export(args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	cfg := storeFlags(fs)
	config := fs.String("config", env("AMIGO_CONFIG", ""), "bootstrap file whose accounts and organizations are written for the record (AMIGO_CONFIG)")
	out := fs.String("out", "-", "file to write, - for standard output")
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
	ctx := context.Background()
	st, err := app.OpenStoreToRead(ctx, *cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := dump.Export(ctx, st, dir, w); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		return f.Sync()
	}
	return nil
}

func importCmd(args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	cfg := storeFlags(fs)
	in := fs.String("in", "-", "export file to read, - for standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := app.OpenStore(ctx, *cfg)
	if err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			st.Close()
			return err
		}
		defer f.Close()
		r = f
	}
	stats, err := dump.Import(ctx, st, r)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "imported %d images, %d tags, %d settings, %d instances, %d client tokens, %d volumes, %d snapshots, %d audit events, %d undelivered outbound messages (%d account/organization records are the bootstrap file's and were skipped)\n",
		stats.Images, stats.Tags, stats.Settings, stats.Instances, stats.ClientTokens, stats.Volumes, stats.Snapshots, stats.Events, stats.Outbox, stats.Skipped)
	return nil
}
