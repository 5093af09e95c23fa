package awserr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoCodeLiterals walks every non-test Go file under internal/ and cmd/
// and fails on a string literal equal to a code of the table, on a call to
// WithStatus, and on New/Newf with AuthFailure: codes are spelled once, in
// codes.go, and AuthFailure's status is chosen by its two constructors.
func TestNoCodeLiterals(t *testing.T) {
	root := filepath.Join("..", "..")
	known := map[string]bool{}
	for _, r := range Rows() {
		known[r.Code] = true
	}
	checked := 0
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if rel == "internal/awserr" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			checked++
			checkFile(t, path, rel, known)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the walk rooted at the module?", checked)
	}
}

func checkFile(t *testing.T, path, rel string, known map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	awserrName := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); strings.HasSuffix(p, "/internal/awserr") {
			awserrName = "awserr"
			if imp.Name != nil {
				awserrName = imp.Name.Name
			}
		}
	}
	where := func(n ast.Node) string {
		p := fset.Position(n.Pos())
		return rel + ":" + strconv.Itoa(p.Line)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.Field:
			// A struct tag is not code; the field's type may hold literals
			// only in array lengths, which are never strings.
			return false
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if s, err := strconv.Unquote(n.Value); err == nil && known[s] {
					t.Errorf("%s: code %q spelled as a literal; use awserr's constant", where(n), s)
				}
			}
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && awserrName != "" && x.Name == awserrName && n.Sel.Name == "WithStatus" {
				t.Errorf("%s: awserr.WithStatus: a code's status comes from the table (or AuthFailure's constructors)", where(n))
			}
		case *ast.CallExpr:
			if se, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) > 0 {
				if x, ok := se.X.(*ast.Ident); ok && awserrName != "" && x.Name == awserrName && (se.Sel.Name == "New" || se.Sel.Name == "Newf") {
					if arg, ok := n.Args[0].(*ast.SelectorExpr); ok && arg.Sel.Name == "CodeAuthFailure" {
						t.Errorf("%s: AuthFailure has two statuses; use AuthFailureCredentials (401) or AuthFailureResource (400)", where(n))
					}
				}
			}
		}
		return true
	})
}
