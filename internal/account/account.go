// Package account is the directory of accounts, access keys and
// organizations that amigo is started with. It is configured data, read once
// at start-up; the Directory it builds is immutable and safe for concurrent
// use.
//
// The bootstrap file is YAML:
//
//	accounts:
//	  - id: "111122223333"              # exactly 12 digits; quote it
//	    access_keys:
//	      - {id: AKIAEXAMPLEDEV00000, secret: devsecret}
//	      - id: AKIAEXAMPLERO000000
//	        secret: rosecret
//	        user: ci-builder            # optional IAM user name; without one the key is the root's
//	        # Optional IAM identity policy (see package iam), as a YAML or
//	        # JSON mapping or a string holding JSON. Without one the key may
//	        # do everything in its account.
//	        policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
//	  - id: "444455556666"
//	    access_keys: [{id: AKIAEXAMPLEOTHER000, secret: othersecret}]
//	organizations:
//	  - id: o-exampleorg1
//	    management_account: "111122223333"
//	    accounts: ["111122223333"]      # directly under the root
//	    units:                          # organizational units, nested to any depth
//	      - id: ou-ab12-11111111
//	        accounts: ["444455556666"]
//	        units: []
//
// Rules, checked at load. Every problem in the file is reported at once,
// each with its line and the entry it is in, sorted by line; a YAML syntax
// error alone stops the reading early.
//   - Unknown fields are errors, so a misspelt "polcy" cannot silently drop a
//     restriction. A file with no accounts is an error.
//   - Account ids are exactly 12 digits and listed once.
//   - Access key ids are unique across all accounts and contain no
//     whitespace or '/' (they travel inside SigV4's Credential=KEY/scope).
//     Secrets are non-empty.
//   - Organization ids match ^o-[a-z0-9]{10,32}$, OU ids
//     ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$, both unique across the file.
//   - The management account must be listed under accounts. It is always a
//     member of its organization, as in AWS: if no OU or the root lists it,
//     it is placed directly under the root.
//   - An account belongs to at most one organization and appears once in it.
//   - Every account an organization lists has an entry under accounts, so a
//     mistyped member id cannot silently make a member nobody can use. The
//     entry may have no access_keys: such an account never calls amigo, but
//     images shared with its organization or OU are its to see once keys are
//     added.
package account

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/resource"
	"go.yaml.in/yaml/v3"
)

// Key is an access key and the principal it signs for.
type Key struct {
	ID      string
	Secret  string
	Account string
	// Policy limits what the key may do; nil allows everything in Account.
	Policy *iam.Policy
	// User is the IAM user the key belongs to; "" for the account's root
	// (see Principal).
	User string
}

// Account is one account and its keys.
type Account struct {
	ID    string
	Keys  []Key
	OrgID string // "" when the account is in no organization
}

// Organization is one organization and its units, flattened.
type Organization struct {
	ID                string
	ARN               string
	ManagementAccount string
	Accounts          []string // members directly under the root
	OUs               []OU     // every unit at any depth, each after its parent
}

// OU is one organizational unit.
type OU struct {
	ID       string
	ARN      string
	Parent   string   // ID of the enclosing OU; "" directly under the root
	Accounts []string // members directly in this OU
}

// Directory answers who a key belongs to and where an account sits in its
// organization.
type Directory struct {
	keys     map[string]Key
	accounts map[string]*member
	ids      []string // sorted keys of accounts
	orgs     []Organization
}

type member struct {
	keys   []Key
	orgID  string
	orgARN string
	ouARNs []string // root-most first; nil outside any OU
}

// DefaultAccount, DefaultKeyID and DefaultSecret are the bootstrap used when
// no file is given, the same as other local AWS emulators so that the AWS CLI
// works with `test`/`test` out of the box.
const (
	DefaultAccount = "000000000000"
	DefaultKeyID   = "test"
	DefaultSecret  = "test"
)

// Default returns a directory with one account, DefaultAccount, holding one
// key, DefaultKeyID/DefaultSecret, without a policy, and no organizations.
func Default() *Directory {
	d, err := newBuilder(nil).build(&file{Accounts: []accountEntry{{
		ID:         DefaultAccount,
		AccessKeys: []keyEntry{{ID: DefaultKeyID, Secret: DefaultSecret}},
	}}})
	if err != nil {
		panic(err) // the constant bootstrap is valid
	}
	return d
}

// Load reads and validates the bootstrap file at path.
func Load(path string) (*Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse validates a bootstrap document (see the package comment).
func Parse(data []byte) (*Directory, error) {
	// The document is read twice: as nodes, for the line of each entry, and
	// strictly into the file's shape, where an unknown field is a problem
	// but decoding carries on, so that the rules are checked too.
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&root); {
	case err == io.EOF:
		return nil, errors.New("account: the bootstrap file is empty")
	case err != nil:
		return nil, fmt.Errorf("account: %w", err) // syntax: nothing more can be read
	}
	var doc *yaml.Node
	if len(root.Content) > 0 {
		doc = root.Content[0]
	}
	b := newBuilder(doc)
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		b.problem(nil, "the bootstrap file holds more than one YAML document")
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var f file
	if err := strict.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("account: %w", err)
		}
		for _, msg := range te.Errors {
			b.problems = append(b.problems, yamlProblem(msg))
		}
	}
	return b.build(&f)
}

// Key returns the access key with the given id.
func (d *Directory) Key(accessKeyID string) (Key, bool) {
	k, ok := d.keys[accessKeyID]
	return k, ok
}

// Viewer describes account for visibility checks. An account the directory
// does not know is a viewer in no organization.
func (d *Directory) Viewer(account string) resource.Viewer {
	v := resource.Viewer{Account: account}
	if m, ok := d.accounts[account]; ok {
		v.OrgARN = m.orgARN
		v.OUARNs = slices.Clone(m.ouARNs) // the caller may not change ours
	}
	return v
}

// Accounts returns the id of every account the directory knows, with or
// without keys, sorted.
func (d *Directory) Accounts() []string {
	return slices.Clone(d.ids)
}

// Account returns the account with the given id.
func (d *Directory) Account(id string) (Account, bool) {
	m, ok := d.accounts[id]
	if !ok {
		return Account{}, false
	}
	return Account{ID: id, Keys: slices.Clone(m.keys), OrgID: m.orgID}, true
}

// Organizations returns every organization, in file order.
func (d *Directory) Organizations() []Organization {
	out := make([]Organization, len(d.orgs))
	for i, o := range d.orgs {
		o.Accounts = slices.Clone(o.Accounts)
		o.OUs = slices.Clone(o.OUs)
		for j := range o.OUs {
			o.OUs[j].Accounts = slices.Clone(o.OUs[j].Accounts)
		}
		out[i] = o
	}
	return out
}

// OrgARN is the ARN of organization orgID managed by account mgmt.
func OrgARN(mgmt, orgID string) string {
	return "arn:aws:organizations::" + mgmt + ":organization/" + orgID
}

// OUARN is the ARN of unit ouID in organization orgID managed by account mgmt.
func OUARN(mgmt, orgID, ouID string) string {
	return "arn:aws:organizations::" + mgmt + ":ou/" + orgID + "/" + ouID
}

// The file's shape. Field names are what the yaml package prints for an
// unknown field ("field x not found in type account.keyEntry").
type file struct {
	Accounts      []accountEntry `yaml:"accounts"`
	Organizations []orgEntry     `yaml:"organizations"`
}

type accountEntry struct {
	ID         string     `yaml:"id"`
	AccessKeys []keyEntry `yaml:"access_keys"`
}

type keyEntry struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	User   string `yaml:"user"`
	// A node, so that an absent policy (allow all) differs from a null one.
	Policy yaml.Node `yaml:"policy"`
}

type orgEntry struct {
	ID                string    `yaml:"id"`
	ManagementAccount string    `yaml:"management_account"`
	Accounts          []string  `yaml:"accounts"`
	Units             []ouEntry `yaml:"units"`
}

type ouEntry struct {
	ID       string    `yaml:"id"`
	Accounts []string  `yaml:"accounts"`
	Units    []ouEntry `yaml:"units"`
}

var (
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	orgIDRE     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouIDRE      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

// builder collects every problem rather than stopping at the first, so one
// start-up shows them all. An entry that is wrong is still looked into, for
// the problems inside it; the directory is only used when there are none.
type builder struct {
	d        *Directory
	doc      *yaml.Node // the document's top node, for lines; nil for Default
	problems []*Problem
	listed   map[string]bool   // accounts under accounts:
	keyOwner map[string]string // access key id → account, for duplicates
	ouSeen   map[string]string // OU id → org id, for duplicates
}

func newBuilder(doc *yaml.Node) *builder {
	return &builder{
		d:        &Directory{keys: make(map[string]Key), accounts: make(map[string]*member)},
		doc:      doc,
		listed:   make(map[string]bool),
		keyOwner: make(map[string]string),
		ouSeen:   make(map[string]string),
	}
}

// problem records a problem at node at (nil when it has no place).
func (b *builder) problem(at *yaml.Node, format string, args ...any) {
	line := 0
	if at != nil {
		line = at.Line
	}
	b.problems = append(b.problems, &Problem{Line: line, Err: fmt.Errorf(format, args...)})
}

func (b *builder) build(f *file) (*Directory, error) {
	accounts := child(b.doc, "accounts")
	// A file or accounts of the wrong shape already has the decoder's
	// problem; "no accounts" would only repeat it.
	if len(f.Accounts) == 0 && absentOr(b.doc, yaml.MappingNode) && absentOr(accounts, yaml.SequenceNode) {
		b.problem(accounts, "no accounts: the bootstrap file must list at least one")
	}
	accountNodes := b.entries(accounts, yaml.MappingNode, "accounts")
	for i := range f.Accounts {
		n, fi := accountNodes.at(i)
		b.addAccount(fi, &f.Accounts[i], n)
	}
	orgNodes := b.entries(child(b.doc, "organizations"), yaml.MappingNode, "organizations")
	orgSeen := make(map[string]int)
	for i := range f.Organizations {
		o := &f.Organizations[i]
		n, fi := orgNodes.at(i)
		if j, dup := orgSeen[o.ID]; dup && o.ID != "" {
			b.problem(n, "organizations[%d] %q: listed again (first at organizations[%d])", fi, o.ID, j)
		} else {
			orgSeen[o.ID] = fi
		}
		b.addOrg(fi, o, n)
	}
	if len(b.problems) > 0 {
		// File order; problems without a line (a second document) last.
		slices.SortStableFunc(b.problems, func(x, y *Problem) int {
			return cmp.Compare(lineKey(x.Line), lineKey(y.Line))
		})
		errs := make([]error, len(b.problems))
		for i, p := range b.problems {
			errs[i] = p
		}
		return nil, &Error{Problems: errs}
	}
	d := b.d
	for id := range d.accounts {
		d.ids = append(d.ids, id)
	}
	slices.Sort(d.ids)
	return d, nil
}

func lineKey(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}

func (b *builder) addAccount(i int, a *accountEntry, n *yaml.Node) {
	where := fmt.Sprintf("accounts[%d] %q", i, a.ID)
	m := &member{}
	switch {
	case !accountIDRE.MatchString(a.ID):
		b.problem(n, "%s: account id must be exactly 12 digits", where)
	case b.listed[a.ID]:
		b.problem(n, "%s: account listed twice", where)
	default:
		b.listed[a.ID] = true
		b.d.accounts[a.ID] = m
	}
	keys := b.entries(child(n, "access_keys"), yaml.MappingNode, fmt.Sprintf("account %q: access_keys", a.ID))
	for j := range a.AccessKeys {
		ke := &a.AccessKeys[j]
		kn, fj := keys.at(j)
		kwhere := fmt.Sprintf("account %q: access_keys[%d] %q", a.ID, fj, ke.ID)
		switch {
		case ke.ID == "":
			b.problem(kn, "%s: access key id is empty", kwhere)
			continue
		case strings.ContainsFunc(ke.ID, func(r rune) bool { return r == '/' || r <= ' ' || r == 0x7f }):
			b.problem(kn, "%s: access key id must not contain '/', spaces or control characters", kwhere)
			continue
		}
		if owner, dup := b.keyOwner[ke.ID]; dup {
			b.problem(kn, "%s: access key id already used in account %q", kwhere, owner)
			continue
		}
		b.keyOwner[ke.ID] = a.ID
		if ke.Secret == "" {
			b.problem(kn, "%s: secret is empty", kwhere)
		}
		policy, err := decodePolicy(&ke.Policy)
		if err != nil {
			b.problem(&ke.Policy, "%s: policy: %w", kwhere, err)
		}
		if ke.User != "" && !validUserName(ke.User) {
			b.problem(kn, "%s: user %q must be 1 to 64 of A-Z a-z 0-9 + = , . @ _ -", kwhere, ke.User)
		}
		k := Key{ID: ke.ID, Secret: ke.Secret, Account: a.ID, Policy: policy, User: ke.User}
		b.d.keys[k.ID] = k
		m.keys = append(m.keys, k)
	}
}

func decodePolicy(n *yaml.Node) (*iam.Policy, error) {
	if n.Kind == 0 {
		return nil, nil // absent: the key may do everything
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An empty "policy:" most likely lost its content; allowing all
		// would be the wrong way to fail.
		return nil, errors.New("is empty; omit the field to allow everything")
	}
	keepTimestampsAsText(n)
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return iam.FromValue(v)
}

// keepTimestampsAsText retags timestamp scalars as strings: the yaml package
// would turn an unquoted `Version: 2012-10-17` into a time.Time.
func keepTimestampsAsText(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		keepTimestampsAsText(c)
	}
}

// orgWalk places one organization's members.
type orgWalk struct {
	*builder
	org     *Organization
	members map[string]string // account → where it was placed, for duplicates
}

func (b *builder) addOrg(i int, o *orgEntry, n *yaml.Node) {
	where := fmt.Sprintf("organizations[%d] %q", i, o.ID)
	if !orgIDRE.MatchString(o.ID) {
		b.problem(n, "%s: organization id must match %s", where, orgIDRE)
	}
	mgmt := child(n, "management_account")
	switch {
	case o.ManagementAccount == "":
		b.problem(n, "%s: management_account is missing", where)
	case !b.listed[o.ManagementAccount]:
		b.problem(mgmt, "%s: management_account %q is not listed under accounts", where, o.ManagementAccount)
	}
	// Walked even when the id or the management account is wrong, for the
	// problems of its members and units; its ARNs then mean nothing, but
	// the directory is not used.
	org := Organization{ID: o.ID, ARN: OrgARN(o.ManagementAccount, o.ID), ManagementAccount: o.ManagementAccount}
	w := &orgWalk{builder: b, org: &org, members: make(map[string]string)}
	root := fmt.Sprintf("organization %q root", o.ID)
	w.place(root, o.Accounts, b.entries(child(n, "accounts"), yaml.ScalarNode, root+": accounts"), nil, &org.Accounts)
	units := b.entries(child(n, "units"), yaml.MappingNode, fmt.Sprintf("organization %q: units", o.ID))
	for j := range o.Units {
		un, fj := units.at(j)
		w.addOU(fmt.Sprintf("organization %q: units[%d]", o.ID, fj), &o.Units[j], un, "", nil)
	}
	if _, in := w.members[o.ManagementAccount]; !in && b.listed[o.ManagementAccount] {
		w.place(fmt.Sprintf("organization %q root (as its management account)", o.ID),
			[]string{o.ManagementAccount}, entries{{mgmt, 0}}, nil, &org.Accounts)
	}
	b.d.orgs = append(b.d.orgs, org)
}

func (w *orgWalk) addOU(where string, u *ouEntry, n *yaml.Node, parent string, above []string) {
	where = fmt.Sprintf("%s %q", where, u.ID)
	if org, dup := w.ouSeen[u.ID]; dup {
		w.problem(n, "%s: OU id already used in organization %q", where, org)
	} else if !ouIDRE.MatchString(u.ID) {
		w.problem(n, "%s: OU id must match %s", where, ouIDRE)
	} else {
		w.ouSeen[u.ID] = w.org.ID
	}
	// A fresh slice per OU: siblings must not share the backing array.
	path := append(slices.Clip(above), OUARN(w.org.ManagementAccount, w.org.ID, u.ID))
	w.org.OUs = append(w.org.OUs, OU{ID: u.ID, ARN: path[len(path)-1], Parent: parent})
	idx := len(w.org.OUs) - 1
	var direct []string
	in := fmt.Sprintf("organization %q OU %q", w.org.ID, u.ID)
	w.place(in, u.Accounts, w.entries(child(n, "accounts"), yaml.ScalarNode, in+": accounts"), path, &direct)
	w.org.OUs[idx].Accounts = direct
	units := w.entries(child(n, "units"), yaml.MappingNode, where+": units")
	for j := range u.Units {
		un, fj := units.at(j)
		w.addOU(fmt.Sprintf("%s: units[%d]", where, fj), &u.Units[j], un, u.ID, path)
	}
}

// place makes each account a member at the given OU path; nodes are the
// accounts' nodes, for lines.
func (w *orgWalk) place(where string, accounts []string, nodes entries, ouARNs []string, into *[]string) {
	for k, id := range accounts {
		n, _ := nodes.at(k)
		switch m := w.d.accounts[id]; {
		case !accountIDRE.MatchString(id):
			w.problem(n, "%s: account id %q must be exactly 12 digits", where, id)
		case !w.listed[id]:
			w.problem(n, "%s: account %q is not listed under accounts", where, id)
		case w.members[id] != "":
			w.problem(n, "%s: account %q already appears in %s", where, id, w.members[id])
		case m.orgID != "":
			w.problem(n, "%s: account %q already belongs to organization %q", where, id, m.orgID)
		default:
			m.orgID, m.orgARN = w.org.ID, w.org.ARN
			if len(ouARNs) > 0 {
				m.ouARNs = ouARNs
			}
			w.members[id] = where
			*into = append(*into, id)
		}
	}
}

// The helpers below find an entry's node, for its line; each takes and
// gives nil where the document has no such node.

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// absentOr says whether n is missing, null or of kind k.
func absentOr(n *yaml.Node, k yaml.Kind) bool {
	return n == nil || isNull(n) || deref(n).Kind == k
}

// child is the value under key in mapping n.
func child(n *yaml.Node, key string) *yaml.Node {
	if n = deref(n); n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// entries are the items of a sequence that decoded to an element: the
// decoder drops null items and items of the wrong kind, so element i of the
// decoded slice is entries[i], at index entries[i].index in the file.
type entries []entry

type entry struct {
	node  *yaml.Node
	index int
}

// entries finds the items of sequence n that decode (those of kind k). It
// reports the null ones; the decoder reports those of the wrong kind.
func (b *builder) entries(n *yaml.Node, k yaml.Kind, what string) entries {
	if n = deref(n); n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out entries
	for i, it := range n.Content {
		switch {
		case isNull(it):
			b.problem(it, "%s[%d] is empty", what, i)
		case deref(it).Kind == k:
			out = append(out, entry{deref(it), i})
		}
	}
	return out
}

// at is the node and file index of decoded element i.
func (e entries) at(i int) (*yaml.Node, int) {
	if i < len(e) {
		return e[i].node, e[i].index
	}
	return nil, i // no document (Default): the indices agree
}

// Problem is one thing wrong in a bootstrap document.
type Problem struct {
	Line int // 1-based; 0 when the problem has no one place
	Err  error
}

func (p *Problem) Error() string {
	if p.Line == 0 {
		return p.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", p.Line, p.Err)
}

func (p *Problem) Unwrap() error { return p.Err }

// yamlProblem turns one of the decoder's messages ("line 3: field x not
// found in type account.keyEntry") into a Problem with its line.
func yamlProblem(msg string) *Problem {
	if head, rest, ok := strings.Cut(msg, ": "); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(head, "line ")); err == nil && strings.HasPrefix(head, "line ") {
			return &Problem{Line: n, Err: errors.New(rest)}
		}
	}
	return &Problem{Err: errors.New(msg)}
}

// Error is every problem found in a bootstrap document.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "account: " + e.Problems[0].Error()
	}
	var s strings.Builder
	fmt.Fprintf(&s, "account: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		s.WriteString("\n\t")
		s.WriteString(p.Error())
	}
	return s.String()
}

// Unwrap gives errors.Is and errors.As access to each problem.
func (e *Error) Unwrap() []error { return e.Problems }
