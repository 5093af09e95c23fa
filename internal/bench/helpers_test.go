package bench

import (
	"testing"

	"github.com/amigo-ec2/amigo/internal/account"
)

const benchAccounts = "testdata/bench-accounts.yaml"

func testDirectory(tb testing.TB) *account.Directory {
	tb.Helper()
	d, err := account.Load(benchAccounts)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func testDirectoryFrom(tb testing.TB, yaml string) *account.Directory {
	tb.Helper()
	d, err := account.Parse([]byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
