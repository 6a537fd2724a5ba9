package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

var (
	lineRef      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (\w+)\.\S+$`)
	duplicateKey = regexp.MustCompile(`^field (\S+) already set in type \S+$`)
)

// inSection prefixes a decoding error with the section it happened in.
// Errors that carry line numbers are left to locate, which adds the full
// key path; errors that already name a key inside the section stay as they
// are.
func inSection(section string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) || strings.HasPrefix(err.Error(), section+".") || strings.HasPrefix(err.Error(), section+":") {
		return err
	}
	return fmt.Errorf("%s: %w", section, err)
}

// locate rewrites the errors of a YAML decoding so that each names its line
// and key path: "line 7: prometheus.timout: unknown field".
func locate(content []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml3.Node
	if yaml3.Unmarshal(content, &root) != nil {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = e
		m := lineRef.FindStringSubmatch(e)
		if m == nil {
			continue
		}
		line, convErr := strconv.Atoi(m[1])
		if convErr != nil {
			continue
		}
		msg, key := m[2], ""
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg, key = "unknown field", f[1]
		} else if f := duplicateKey.FindStringSubmatch(msg); f != nil {
			msg, key = "key set twice", f[1]
		}
		if p := pathAt(&root, line, key, ""); p != "" {
			msgs[i] = fmt.Sprintf("line %d: %s: %s", line, p, msg)
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

// pathAt returns the key path of the deepest key or item on the given
// line; if key is not empty, of the key with that name (several keys share a
// line in flow style: {a: 1, b: 2}).
func pathAt(n *yaml3.Node, line int, key, path string) string {
	switch n.Kind {
	case yaml3.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, key, path); p != "" {
				return p
			}
		}
	case yaml3.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if deeper := pathAt(v, line, key, p); deeper != "" {
				return deeper
			}
			if k.Line == line && (key == "" || k.Value == key) {
				return p
			}
		}
	case yaml3.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if deeper := pathAt(c, line, key, p); deeper != "" {
				return deeper
			}
			if c.Line == line && key == "" {
				return p
			}
		}
	}
	return ""
}

// explain turns an error of Alertmanager's loader about one section (raw,
// as decoded from the user's file) into one that names the key path. The
// line numbers of Alertmanager's errors are dropped: they point into the
// document augur generated for its loader, which the user never saw.
func explain(path string, raw any, err error) error {
	msgs := strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n")
	for i, msg := range msgs {
		msg = strings.TrimSpace(msg)
		if m := lineRef.FindStringSubmatch(msg); m != nil {
			msg = m[2]
		}
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			if p := findKey(raw, m[1], m[2]+"_configs", path); p != "" {
				msgs[i] = p + ": unknown field"
				continue
			}
		}
		msgs[i] = path + ": " + msg
	}
	return errors.New(strings.Join(msgs, "; "))
}

// findKey returns the path of a mapping key named key under v: the first,
// in a stable order, under a key named within (Alertmanager names the type,
// such as webhook.plain for webhook_configs), else the first anywhere.
func findKey(v any, key, within, path string) string {
	var all []string
	collectKeys(v, key, path, &all)
	for _, p := range all {
		if strings.Contains(p, "."+within+"[") {
			return p
		}
	}
	if len(all) > 0 {
		return all[0]
	}
	return ""
}

func collectKeys(v any, key, path string, out *[]string) {
	switch v := v.(type) {
	case map[any]any:
		for _, k := range sortedKeys(v) {
			p := fmt.Sprintf("%s.%v", path, k)
			if k == key {
				*out = append(*out, p)
				continue
			}
			collectKeys(v[k], key, p, out)
		}
	case []any:
		for i, val := range v {
			collectKeys(val, key, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}
