// Command sink is the demo receiver of `make run`: it listens on
// 127.0.0.1:9097 and prints each webhook notification augur forwards to it,
// one alert per paragraph with its augur_* annotations.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

type notification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func main() {
	addr := flag.String("listen-address", "127.0.0.1:9097", "address to listen on")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s received %s notification for %s (group %s)\n",
			time.Now().Format(time.TimeOnly), n.Status, n.Receiver, n.GroupKey)
		for _, a := range n.Alerts {
			fmt.Fprintf(&b, "  [%s] %s\n", a.Status, pairs(a.Labels))
			keys := make([]string, 0, len(a.Annotations))
			for k := range a.Annotations {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "      %s: %s\n", k, a.Annotations[k])
			}
		}
		fmt.Fprint(os.Stdout, b.String())
	})
	log.Printf("demo sink listening on %s", *addr)
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return strings.Join(out, " ")
}
