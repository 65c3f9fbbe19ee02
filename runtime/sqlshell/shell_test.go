package sqlshell

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/chronon-go/chronon/runtime/warehouse"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// quickstart imports the four quickstart CSVs into a fresh warehouse.
func quickstart(t testing.TB) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkouts", "purchases", "returns", "users"} {
		_, err := w.Import(warehouse.ImportOptions{
			Table: "data." + name,
			Files: []string{filepath.Join(repoRoot(), "data", "quickstart", name+".csv")},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func query(t *testing.T, s *Shell, q, format string) string {
	t.Helper()
	r, err := s.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var b bytes.Buffer
	if err := Write(&b, r, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestQuickstartImport(t *testing.T) {
	w := quickstart(t)
	s, err := Open(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct{ q, want string }{
		{"SELECT count(*), min(ds), max(ds) FROM data.purchases", "500,2023-11-01,2023-11-30\n"},
		{"SELECT count(*), min(ds), max(ds) FROM data.returns", "500,2023-11-01,2023-11-30\n"},
		{"SELECT count(*), count(DISTINCT user_id), min(ds) FROM data.checkouts", "200,85,2023-11-30\n"},
		{"SELECT count(*), min(ds), max(ds) FROM data.users", "101,2023-11-29,2023-11-29\n"},
		{"SELECT typeof(ts), typeof(purchase_price), typeof(user_id), typeof(ds) FROM data.purchases LIMIT 1", "BIGINT,BIGINT,VARCHAR,VARCHAR\n"},
		{"SELECT typeof(refund_amt), typeof(product_id) FROM data.returns LIMIT 1", "BIGINT,VARCHAR\n"},
		{"SELECT sum(purchase_price) FROM data.purchases WHERE ds = '2023-11-30'", "2095\n"},
	} {
		got := query(t, s, c.q, "csv")
		_, body, _ := strings.Cut(got, "\n") // drop the header
		if body != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.q, body, c.want)
		}
	}
}

func TestSQLCases(t *testing.T) {
	w := quickstart(t)
	s, err := Open(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	datadriven.RunTest(t, "testdata/sql.txt", func(t *testing.T, d *datadriven.TestData) string {
		r, err := s.Run(context.Background(), d.Input)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		var b bytes.Buffer
		if err := Write(&b, r, "csv"); err != nil {
			t.Fatal(err)
		}
		return b.String()
	})
}
