package assurancecase

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sectwin/sectwin/ingest/gsn"
)

// Edit is one change to one element of a case: its creation (when the id is new), its removal,
// or new values for some of its fields (nil leaves a field as it is).
type Edit struct {
	ID string
	// Module is the name of the module a new element goes to (the first module when empty).
	Module      string
	Remove      bool
	Text        *string
	SupportedBy *[]string
	InContextOf *[]string
	Undeveloped *bool
	// Evidence is the element's evidence spec as JSON; "" removes it.
	Evidence *string
	// About lists the twin elements the element is about, as Label/key; empty removes them.
	About *[]string
}

// ApplyEdits applies edits, in order, to the gsn2x files of a stored case and returns the
// files as they now read. It does not validate the result: the caller imports the files as a
// new version, which checks everything (a removed element still referenced is a dangling
// reference, reported on the element that refers to it).
func ApplyEdits(files map[string][]byte, edits []Edit) (map[string][]byte, error) {
	c, err := gsn.ParseSet(files)
	if err != nil {
		return nil, fmt.Errorf("the stored case no longer parses: %w", err)
	}
	mods := make([]*gsn.Module, len(c.Modules))
	for i, m := range c.Modules {
		mods[i] = m.Clone()
	}
	var errs []error
	bad := func(id, format string, args ...any) {
		errs = append(errs, &ElementError{Element: id, Message: fmt.Sprintf(format, args...)})
	}
	find := func(id string) (*gsn.Module, int) {
		for _, m := range mods {
			for i, e := range m.Elements {
				if e.ID == id {
					return m, i
				}
			}
		}
		return nil, -1
	}
	for _, ed := range edits {
		m, i := find(ed.ID)
		if ed.Remove {
			if m == nil {
				bad(ed.ID, "is not an element of the case")
				continue
			}
			m.Elements = slices.Delete(m.Elements, i, i+1)
			continue
		}
		var e *gsn.Element
		if m != nil {
			e = m.Elements[i]
		} else {
			t := gsn.TypeFromID(ed.ID)
			if t == "" {
				bad(ed.ID, "a new element's id must start with the prefix of its type (G, S, Sn, C, A, J, CG, CSn)")
				continue
			}
			target := mods[0]
			if ed.Module != "" {
				target = nil
				for _, mm := range mods {
					if mm.Name == ed.Module {
						target = mm
					}
				}
				if target == nil {
					bad(ed.ID, "no module %q in the case", ed.Module)
					continue
				}
			}
			e = &gsn.Element{ID: ed.ID, Type: t, Module: target.Name}
			target.Elements = append(target.Elements, e)
		}
		if ed.Text != nil {
			e.Text = *ed.Text
		}
		if ed.SupportedBy != nil {
			e.SupportedBy = slices.Clone(*ed.SupportedBy)
		}
		if ed.InContextOf != nil {
			e.InContextOf = slices.Clone(*ed.InContextOf)
		}
		if ed.Undeveloped != nil {
			e.Undeveloped = *ed.Undeveloped
		}
		if ed.Evidence != nil {
			v := gsn.Value{}
			if strings.TrimSpace(*ed.Evidence) != "" {
				if !json.Valid([]byte(*ed.Evidence)) {
					bad(ed.ID, "evidence must be a JSON evidence spec")
					continue
				}
				if v, err = gsn.ParseValue([]byte(*ed.Evidence)); err != nil {
					bad(ed.ID, "evidence: %v", err)
					continue
				}
			}
			setLayer(e, LayerEvidence, v)
		}
		if ed.About != nil {
			v := gsn.Value{}
			if len(*ed.About) > 0 {
				v = gsn.ListValue(*ed.About...)
			}
			setLayer(e, LayerAbout, v)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make(map[string][]byte, len(mods))
	for _, m := range mods {
		b, err := gsn.Export(m, nil)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name, err)
		}
		out[m.File] = b
	}
	return out, nil
}

// setLayer replaces a layer's value, adds it, or removes it for the zero Value.
func setLayer(e *gsn.Element, key string, v gsn.Value) {
	for i, l := range e.Layers {
		if l.Key == key {
			if v.IsZero() {
				e.Layers = slices.Delete(e.Layers, i, i+1)
			} else {
				e.Layers[i].Value = v
			}
			return
		}
	}
	if !v.IsZero() {
		e.Layers = append(e.Layers, gsn.Layer{Key: key, Value: v})
	}
}
