package expr_test

import (
	"fmt"

	"github.com/augur-sre/augur/enrich/expr"
)

func ExampleSplit() {
	c, err := expr.Split(`(
	  node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes{fstype!=""} * 100 < 15
	and
	  node_filesystem_readonly{fstype!=""} == 0
	)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Query)
	fmt.Println(c.Comparator, c.Threshold)
	fmt.Println(c.Filters)
	fmt.Println(expr.Compare(c.Comparator, 12, c.Threshold))
	// Output:
	// node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes{fstype!=""} * 100
	// < 15
	// [node_filesystem_readonly{fstype!=""} == 0]
	// true
}

func ExampleSplit_refused() {
	_, err := expr.Split(`absent(up{job="node"})`)
	fmt.Println(err)
	// Output:
	// split alert expression "absent(up{job=\"node\"})": absent() has no threshold to forecast: the alert fires when a series is missing
}
