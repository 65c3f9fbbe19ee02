package warehouse

import (
	"bufio"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/chronon-go/chronon/runtime/types"
)

// TestKilledWriter kills a writer process in the middle of rewriting a partition: readers still see
// the old partition, whole, and nothing of the new one.
func TestKilledWriter(t *testing.T) {
	if root := os.Getenv("CHRONON_TEST_KILLED_WRITER"); root != "" {
		killedWriterChild(root)
		return
	}
	root := t.TempDir()
	w, _ := Open(root)
	writeLongs(t, w, "db.t", map[string][]int64{"2023-01-01": {1, 2, 3}})

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "CHRONON_TEST_KILLED_WRITER="+root)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has written (and flushed) data for the partition, then kill it.
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "written" {
	}
	cmd.Process.Kill()
	cmd.Wait()

	w2, _ := Open(root)
	tbl, err := w2.Table("db.t")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := tbl.Read(ReadOptions{Columns: []string{"x"}})
	b, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(b); !reflect.DeepEqual(got, [][]any{{int64(1)}, {int64(2)}, {int64(3)}}) {
		t.Fatalf("after the killed write the partition holds %v", got)
	}
	if dates, _ := tbl.PartitionDates(); len(dates) != 1 {
		t.Fatalf("partitions after the killed write: %v", dates)
	}
}

func killedWriterChild(root string) {
	w, _ := Open(root)
	s := types.Schema{{Name: "x", Type: types.LongType}}
	tx, _ := w.Begin("db.t", TableSpec{Schema: s, PartitionColumns: []string{"ds"}})
	b := types.NewBatch(s, rowGroupRows)
	for i := 0; i < rowGroupRows; i++ {
		b.Cols[0].Append(int64(100 + i))
	}
	tx.Write([]string{"2023-01-01"}, b) // a full row group: flushed to the staged file
	tx.Write([]string{"2023-01-02"}, b)
	os.Stdout.WriteString("written\n")
	time.Sleep(time.Minute) // killed here, before Commit
}
