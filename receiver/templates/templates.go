// Package templates holds augur's notification templates and loads them in
// the order that lets users override them: Alertmanager's defaults, then
// augur's (augur.tmpl), then the user's own template files.
package templates

import (
	"bytes"
	_ "embed" // for augur.tmpl
	"fmt"

	"github.com/prometheus/alertmanager/template"
)

//go:embed augur.tmpl
var augurTemplates []byte

// Load returns the templates for forwarding notifications. globs are the
// user's template file globs (config templates:).
func Load(globs []string) (*template.Template, error) {
	t, err := template.FromGlobs(nil)
	if err != nil {
		return nil, fmt.Errorf("load Alertmanager's default templates: %w", err)
	}
	if err := t.Parse(bytes.NewReader(augurTemplates)); err != nil {
		return nil, fmt.Errorf("parse augur's templates: %w", err)
	}
	for _, g := range globs {
		if err := t.FromGlob(g); err != nil {
			return nil, fmt.Errorf("templates: %q: %w", g, err)
		}
	}
	return t, nil
}
