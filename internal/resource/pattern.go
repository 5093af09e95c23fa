package resource

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Pattern is a filter value: literal text with * (any run), ? (zero or one
// character) and backslash escapes. Characters are runes: an invalid UTF-8
// byte, in the value or in the text matched, counts as one U+FFFD.
//
// Matching splits the pattern on '*' into segments. A '*' absorbs whatever
// lies between two segments, so the earliest end at which a segment can
// match is always the best choice: one left-to-right pass decides, and the
// cost is linear in the text and the pattern (hostile values full of
// "*a" runs included) instead of their product.
type Pattern struct {
	literal string // set when the value has no wildcard
	tokens  []ptoken
	wild    bool
	segs    []segment // the pattern split on '*'; len = stars + 1
}

type ptoken struct {
	kind byte // 'l' literal rune, '*', '?'
	r    rune
}

// CompilePattern parses one filter value.
func CompilePattern(v string) Pattern {
	if !strings.ContainsAny(v, `*?\`) {
		return Pattern{literal: v} // byte for byte, even for invalid UTF-8
	}
	var toks []ptoken
	wild := false
	var lit strings.Builder
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		case '*', '?':
			wild = true
			toks = append(toks, ptoken{kind: byte(rs[i])})
		default:
			toks = append(toks, ptoken{kind: 'l', r: rs[i]})
			lit.WriteRune(rs[i])
		}
	}
	if !wild {
		return Pattern{literal: lit.String()}
	}
	p := Pattern{tokens: toks, wild: true}
	start := 0
	for i, t := range toks {
		if t.kind == '*' {
			p.segs = append(p.segs, newSegment(toks[start:i]))
			start = i + 1
		}
	}
	p.segs = append(p.segs, newSegment(toks[start:]))
	return p
}

// Literal returns the text of a pattern without wildcards, and whether it
// has none.
func (p Pattern) Literal() (string, bool) { return p.literal, !p.wild }

// Prefix returns the literal prefix of a pattern of the form "abc*" (used
// to pick an index), and whether the pattern has exactly that form.
func (p Pattern) Prefix() (string, bool) {
	if !p.wild {
		return "", false
	}
	n := len(p.tokens)
	if n == 0 || p.tokens[n-1].kind != '*' {
		return "", false
	}
	var b strings.Builder
	for _, t := range p.tokens[:n-1] {
		if t.kind != 'l' {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

// Match reports whether s matches the pattern.
func (p Pattern) Match(s string) bool {
	if !p.wild {
		return s == p.literal
	}
	if !utf8.ValidString(s) {
		// Each invalid byte becomes one U+FFFD, as a []rune conversion
		// does; from here on byte offsets are rune boundaries.
		s = string([]rune(s))
	}
	segs := p.segs
	if len(segs) == 1 {
		return segs[0].whole(s)
	}
	pos, ok := segs[0].prefix(s)
	if !ok {
		return false
	}
	for i := 1; i < len(segs)-1; i++ {
		if pos, ok = segs[i].find(s, pos); !ok {
			return false
		}
	}
	return segs[len(segs)-1].suffix(s, pos)
}

// segment is the part of a pattern between two stars. Without '?' it is
// plain text and the strings package matches it; with '?' a bit-parallel
// automaton (Shift-And) runs over the text, one step per rune.
type segment struct {
	lit string // the text, when the segment has no '?'
	nfa *segNFA
}

func newSegment(toks []ptoken) segment {
	var b []byte
	for _, t := range toks {
		if t.kind == '?' {
			return segment{nfa: newSegNFA(toks)}
		}
		b = utf8.AppendRune(b, t.r)
	}
	return segment{lit: string(b)}
}

// whole reports whether the segment matches all of s.
func (g *segment) whole(s string) bool {
	if g.nfa == nil {
		return s == g.lit
	}
	_, ok := g.nfa.scan(s, 0, true, false)
	return ok
}

// prefix returns the earliest end of a match that starts at 0.
func (g *segment) prefix(s string) (int, bool) {
	if g.nfa == nil {
		return len(g.lit), strings.HasPrefix(s, g.lit)
	}
	return g.nfa.scan(s, 0, true, true)
}

// find returns the earliest end of a match that starts at or after pos.
func (g *segment) find(s string, pos int) (int, bool) {
	if g.nfa == nil {
		i := strings.Index(s[pos:], g.lit)
		return pos + i + len(g.lit), i >= 0
	}
	return g.nfa.scan(s, pos, false, true)
}

// suffix reports whether a match starting at or after pos ends at len(s).
func (g *segment) suffix(s string, pos int) bool {
	if g.nfa == nil {
		return len(s)-pos >= len(g.lit) && strings.HasSuffix(s, g.lit)
	}
	_, ok := g.nfa.scan(s, pos, false, false)
	return ok
}

// segNFA: state bit j means "the first j items matched"; bit len(items)
// accepts. A '?' item consumes any rune or none; the "none" moves are
// taken as: any state inside a run of '?' may jump to the run's end.
type segNFA struct {
	words  int
	accept int
	ascii  [utf8.RuneSelf]int32 // index into masks+1, 0: no literal item
	other  map[rune]int32
	masks  [][]uint64 // per literal rune: its items and every '?' item
	any    []uint64   // the '?' items alone: what a rune no item names can take
}

func newSegNFA(toks []ptoken) *segNFA {
	n := &segNFA{accept: len(toks), words: (len(toks) + 64) / 64}
	n.any = make([]uint64, n.words)
	for j, t := range toks {
		if t.kind == '?' {
			n.any[j/64] |= 1 << (j % 64)
		}
	}
	for j, t := range toks {
		if t.kind == '?' {
			continue
		}
		idx := n.index(t.r)
		if idx < 0 {
			idx = int32(len(n.masks))
			n.masks = append(n.masks, append([]uint64(nil), n.any...))
			if t.r < utf8.RuneSelf {
				n.ascii[t.r] = idx + 1
			} else {
				if n.other == nil {
					n.other = map[rune]int32{}
				}
				n.other[t.r] = idx + 1
			}
		}
		n.masks[idx][j/64] |= 1 << (j % 64)
	}
	return n
}

// index returns the mask of rune r, or -1.
func (n *segNFA) index(r rune) int32 {
	if r >= 0 && r < utf8.RuneSelf {
		return n.ascii[r] - 1
	}
	return n.other[r] - 1 // a missing key reads 0
}

// scan runs the automaton over s from pos. Anchored, matches start at pos;
// otherwise at any rune boundary from pos on. With earliest it returns the
// end of the first match found; otherwise whether one ends at len(s).
func (n *segNFA) scan(s string, pos int, anchored, earliest bool) (int, bool) {
	var buf [4]uint64 // segments up to 255 items need no allocation
	var d []uint64
	if n.words <= len(buf) {
		d = buf[:n.words]
	} else {
		d = make([]uint64, n.words)
	}
	d[0] = 1
	n.close(d)
	if earliest && n.accepts(d) {
		return pos, true
	}
	for i := pos; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		m := n.any
		if idx := n.index(r); idx >= 0 {
			m = n.masks[idx]
		}
		// Shift-And step, high word first so the carry reads the old word.
		live := uint64(0)
		for w := n.words - 1; w >= 0; w-- {
			v := (d[w] & m[w]) << 1
			if w > 0 {
				v |= (d[w-1] & m[w-1]) >> 63
			}
			d[w] = v
			live |= v
		}
		if !anchored {
			d[0] |= 1
		} else if live == 0 {
			return 0, false
		}
		n.close(d)
		if earliest && n.accepts(d) {
			return i, true
		}
	}
	return len(s), !earliest && n.accepts(d)
}

func (n *segNFA) accepts(d []uint64) bool {
	return d[n.accept/64]&(1<<(n.accept%64)) != 0
}

// close takes the "no rune" moves of '?': a state inside a run of '?'
// reaches the run's end (the states in between add nothing the end lacks).
// With Q the '?' items and X = D & Q, adding X to Q carries each run that
// holds a state out onto the bit just past it, and nowhere else: that
// bit is a literal item or the accepting state, never another '?'. One
// multi-word addition closes every run at once.
func (n *segNFA) close(d []uint64) {
	var carry uint64
	for w, q := range n.any {
		var sum uint64
		sum, carry = bits.Add64(q, d[w]&q, carry)
		d[w] |= sum &^ q
	}
}
