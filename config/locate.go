package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	yaml3 "go.yaml.in/yaml/v3"
)

var lineRef = regexp.MustCompile(`line (\d+): `)

// locate adds the key path to every "line N: " in a YAML decoding error, so
// that "line 7: field timout not found" also says "prometheus.timout".
func locate(content []byte, err error) error {
	var root yaml3.Node
	if yaml3.Unmarshal(content, &root) != nil {
		return err
	}
	msg := lineRef.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, convErr := strconv.Atoi(lineRef.FindStringSubmatch(m)[1])
		if convErr != nil {
			return m
		}
		if p := pathAt(&root, n, ""); p != "" {
			return fmt.Sprintf("line %d (%s): ", n, p)
		}
		return m
	})
	return errors.New(msg)
}

// pathAt returns the key path of the deepest key or item on the given line.
func pathAt(n *yaml3.Node, line int, path string) string {
	switch n.Kind {
	case yaml3.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, path); p != "" {
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
			if deeper := pathAt(v, line, p); deeper != "" {
				return deeper
			}
			if k.Line == line {
				return p
			}
		}
	case yaml3.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if deeper := pathAt(c, line, p); deeper != "" {
				return deeper
			}
			if c.Line == line {
				return p
			}
		}
	}
	return ""
}
