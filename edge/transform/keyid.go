package transform

// KeyID is the pseudonymisation key id and epoch now in force ("k2026q1:" without the colon),
// which every release states in its privacy manifest; empty when the plan pseudonymises
// nothing.
func (p *Plan) KeyID() string {
	if p.pseudo == nil {
		return ""
	}
	k := p.pseudo.key(p.now())
	return k.prefix[:len(k.prefix)-1]
}
