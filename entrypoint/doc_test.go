package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/boot"
)

// The package doc is the reference of every subcommand and setting, and
// boot.Usage is the one-screen help; these tests keep both in step with
// each other and with the code.

// docText is the package doc of the command, as go doc prints it.
func docText(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("doc.go has no package doc")
	}
	return f.Doc.Text()
}

// docSection is the text of the package doc's section "# name", up to the
// next heading.
func docSection(t *testing.T, name string) string {
	t.Helper()
	doc := docText(t)
	_, after, ok := strings.Cut(doc, "# "+name+"\n")
	if !ok {
		t.Fatalf("package doc has no section %q", name)
	}
	if i := strings.Index(after, "\n# "); i >= 0 {
		after = after[:i]
	}
	return after
}

// synopses are the command lines of a usage text: each line that starts
// with "entrypoint " after its one indent (a tab in the doc, two spaces in
// boot.Usage; a description's continuation is indented further), up to
// the two spaces before its description. A subcommand with aliases writes
// them as one word: help|-h|--help.
func synopses(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimPrefix(strings.TrimPrefix(line, "\t"), "  ")
		if !strings.HasPrefix(line, "entrypoint ") {
			continue
		}
		if i := strings.Index(line, "  "); i >= 0 {
			line = line[:i]
		}
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// mainCases are the words boot.Main switches on (the string cases of its
// switches on args[0]), read from its source.
func mainCases(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("boot", "boot.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "Main" || fn.Recv != nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok {
				return true
			}
			if ix, ok := sw.Tag.(*ast.IndexExpr); !ok || exprWord(ix.X) != "args" || exprWord(ix.Index) != "0" {
				return true
			}
			for _, s := range sw.Body.List {
				for _, e := range s.(*ast.CaseClause).List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						if !slices.Contains(out, v) {
							out = append(out, v)
						}
					}
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("boot/boot.go: found no switch on args[0] in func Main")
	}
	slices.Sort(out)
	return out
}

// exprWord is the source of a short expression: an identifier or a literal.
func exprWord(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.BasicLit:
		return e.Value
	}
	return ""
}

// TestUsageInStep: the Usage section of the package doc and boot.Usage
// list the same command lines, and their subcommands are exactly the ones
// boot.Main knows.
func TestUsageInStep(t *testing.T) {
	doc, usage := synopses(docSection(t, "Usage")), synopses(boot.Usage)
	if len(doc) == 0 || len(usage) == 0 {
		t.Fatalf("no command lines: package doc %q, boot.Usage %q", doc, usage)
	}
	for _, s := range doc {
		if !slices.Contains(usage, s) {
			t.Errorf("%q is in the package doc's Usage but not in boot.Usage", s)
		}
	}
	for _, s := range usage {
		if !slices.Contains(doc, s) {
			t.Errorf("%q is in boot.Usage but not in the package doc's Usage", s)
		}
	}
	var documented []string
	for _, s := range usage {
		word := strings.Fields(s)[1]
		// An upper-case word is a placeholder (CMD: any word that is no
		// subcommand runs as a command), not a word Main switches on.
		if word == strings.ToUpper(word) && word != "--" {
			continue
		}
		for _, w := range strings.Split(word, "|") {
			if !slices.Contains(documented, w) {
				documented = append(documented, w)
			}
		}
	}
	slices.Sort(documented)
	if cases := mainCases(t); !slices.Equal(documented, cases) {
		t.Errorf("boot.Usage documents subcommands %q, boot.Main knows %q", documented, cases)
	}
}

// readers are the functions that read the environment variable named by
// their argument at the given index, by package and function name (a call
// from inside the package, Get in sparkenv, counts too).
var readers = map[string]map[string]int{
	"os":       {"Getenv": 0, "LookupEnv": 0},
	"sparkenv": {"Get": 1, "Lookup": 1, "IntOr": 1, "JavaOption": 1},
}

// undocumented are SPARK_* variables the code reads that the package doc
// need not name, each with the reason (none today: every one is a
// setting a user may give).
var undocumented = map[string]string{}

// sparkVar is the name of a SPARK_* variable.
var sparkVar = regexp.MustCompile(`^SPARK_[A-Z0-9_]*[A-Z0-9]$`)

// TestDocNamesEverySparkVariable: every SPARK_* variable that discovery or
// the command's packages read is named in the package doc. A read is a
// name given to os.Getenv or os.LookupEnv, to sparkenv's Get, Lookup, IntOr
// or JavaOption, or as the key of a map index (in.Env["..."], env["..."]);
// the name is a string literal, a string constant, or a range variable
// over a list of them. Names built at run time (a link alias's prefix) are
// not seen; the doc describes those by their pattern.
func TestDocNamesEverySparkVariable(t *testing.T) {
	reads := sparkVariablesRead(t, ".", filepath.Join("..", "discovery"))
	if !slices.Contains(reads, "SPARK_MASTER_URL") || !slices.Contains(reads, "SPARK_HOME") {
		t.Fatalf("the scan found %q: not even SPARK_MASTER_URL and SPARK_HOME, so it sees nothing", reads)
	}
	named := map[string]bool{}
	for _, w := range regexp.MustCompile(`[A-Z0-9_]+`).FindAllString(docText(t), -1) {
		named[w] = true
	}
	for _, v := range reads {
		if _, ok := undocumented[v]; !ok && !named[v] {
			t.Errorf("%s is read by the code but not named in doc.go", v)
		}
	}
	for v := range undocumented {
		if !slices.Contains(reads, v) {
			t.Errorf("%s is listed as undocumented on purpose, but nothing reads it any more", v)
		}
	}
}

// sparkVariablesRead scans the non-test Go files under dirs (testdata
// aside) for the SPARK_* variables they read.
func sparkVariablesRead(t *testing.T, dirs ...string) []string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files = append(files, f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// String constants, by package and name: in.Env[envMasterSRV],
	// sparkenv.ConnectOpts.
	consts := map[[2]string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			d, ok := n.(*ast.GenDecl)
			if !ok || d.Tok != token.CONST {
				return true
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[[2]string{f.Name.Name, name.Name}], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	seen := map[string]bool{}
	for _, f := range files {
		pkg := f.Name.Name
		// constant is the string e stands for, when the source says.
		constant := func(e ast.Expr) (string, bool) {
			switch e := e.(type) {
			case *ast.BasicLit:
				if e.Kind == token.STRING {
					v, err := strconv.Unquote(e.Value)
					return v, err == nil
				}
			case *ast.Ident:
				v, ok := consts[[2]string{pkg, e.Name}]
				return v, ok
			case *ast.SelectorExpr:
				if x, ok := e.X.(*ast.Ident); ok {
					v, ok := consts[[2]string{x.Name, e.Sel.Name}]
					return v, ok
				}
			}
			return "", false
		}
		var stack []ast.Node
		// names are the strings e stands for: a constant, or a variable
		// of an enclosing range over a literal list of constants.
		names := func(e ast.Expr) []string {
			if v, ok := constant(e); ok {
				return []string{v}
			}
			id, ok := e.(*ast.Ident)
			if !ok {
				return nil
			}
			for i := len(stack) - 1; i >= 0; i-- {
				r, ok := stack[i].(*ast.RangeStmt)
				if !ok || r.Value == nil || exprWord(r.Value) != id.Name {
					continue
				}
				list, ok := r.X.(*ast.CompositeLit)
				if !ok {
					return nil
				}
				var out []string
				for _, el := range list.Elts {
					if v, ok := constant(el); ok {
						out = append(out, v)
					}
				}
				return out
			}
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			var key ast.Expr
			switch n := n.(type) {
			case *ast.IndexExpr:
				key = n.Index
			case *ast.CallExpr:
				fn, of := "", pkg
				switch f := n.Fun.(type) {
				case *ast.Ident:
					fn = f.Name
				case *ast.SelectorExpr:
					if x, ok := f.X.(*ast.Ident); ok {
						fn, of = f.Sel.Name, x.Name
					}
				}
				if arg, ok := readers[of][fn]; ok && arg < len(n.Args) {
					key = n.Args[arg]
				}
			}
			if key != nil {
				for _, v := range names(key) {
					if sparkVar.MatchString(v) {
						seen[v] = true
					}
				}
			}
			return true
		})
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
