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
// Rules, checked at load; every problem found is reported, each naming its
// entry:
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
//   - An organization may list accounts that have no entry under accounts:
//     they have no keys, so they never call amigo, but they are members, so
//     images shared with their organization or OU are theirs to see once
//     keys are added. Such accounts appear in Accounts and Account.
package account

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/iam"
	"github.com/amigo-ec2/amigo/internal/resource"
	"gopkg.in/yaml.v3"
)

// Key is an access key and the principal it signs for.
type Key struct {
	ID      string
	Secret  string
	Account string
	// Policy limits what the key may do; nil allows everything in Account.
	Policy *iam.Policy
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
	d, err := build(&file{Accounts: []accountEntry{{
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
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	switch err := dec.Decode(&f); {
	case err == io.EOF:
		return nil, errors.New("account: the bootstrap file is empty")
	case err != nil:
		return nil, fmt.Errorf("account: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("account: the bootstrap file holds more than one YAML document")
	}
	return build(&f)
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

// The file's shape. Field names are what yaml.v3 prints for an unknown
// field ("field x not found in type account.keyEntry").
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
// start-up shows them all.
type builder struct {
	d        *Directory
	problems []error
	listed   map[string]bool   // accounts under accounts:
	keyOwner map[string]string // access key id → account, for duplicates
	ouSeen   map[string]string // OU id → org id, for duplicates
}

func (b *builder) problem(format string, args ...any) {
	b.problems = append(b.problems, fmt.Errorf(format, args...))
}

func build(f *file) (*Directory, error) {
	b := &builder{
		d:        &Directory{keys: make(map[string]Key), accounts: make(map[string]*member)},
		listed:   make(map[string]bool),
		keyOwner: make(map[string]string),
		ouSeen:   make(map[string]string),
	}
	if len(f.Accounts) == 0 {
		b.problem("no accounts: the bootstrap file must list at least one")
	}
	for i := range f.Accounts {
		b.addAccount(i, &f.Accounts[i])
	}
	orgSeen := make(map[string]int)
	for i := range f.Organizations {
		o := &f.Organizations[i]
		if j, dup := orgSeen[o.ID]; dup && o.ID != "" {
			b.problem("organizations[%d] %q: listed again (first at organizations[%d])", i, o.ID, j)
			continue
		}
		orgSeen[o.ID] = i
		b.addOrg(i, o)
	}
	if len(b.problems) > 0 {
		return nil, &Error{Problems: b.problems}
	}
	d := b.d
	for id := range d.accounts {
		d.ids = append(d.ids, id)
	}
	slices.Sort(d.ids)
	return d, nil
}

func (b *builder) addAccount(i int, a *accountEntry) {
	where := fmt.Sprintf("accounts[%d] %q", i, a.ID)
	if !accountIDRE.MatchString(a.ID) {
		b.problem("%s: account id must be exactly 12 digits", where)
		return
	}
	if b.listed[a.ID] {
		b.problem("%s: account listed twice", where)
		return
	}
	b.listed[a.ID] = true
	m := &member{}
	b.d.accounts[a.ID] = m
	for j := range a.AccessKeys {
		ke := &a.AccessKeys[j]
		kwhere := fmt.Sprintf("account %q: access_keys[%d] %q", a.ID, j, ke.ID)
		switch {
		case ke.ID == "":
			b.problem("%s: access key id is empty", kwhere)
			continue
		case strings.ContainsFunc(ke.ID, func(r rune) bool { return r == '/' || r <= ' ' || r == 0x7f }):
			b.problem("%s: access key id must not contain '/', spaces or control characters", kwhere)
			continue
		}
		if owner, dup := b.keyOwner[ke.ID]; dup {
			b.problem("%s: access key id already used in account %q", kwhere, owner)
			continue
		}
		b.keyOwner[ke.ID] = a.ID
		if ke.Secret == "" {
			b.problem("%s: secret is empty", kwhere)
		}
		policy, err := decodePolicy(&ke.Policy)
		if err != nil {
			b.problem("%s: policy (line %d): %w", kwhere, ke.Policy.Line, err)
		}
		k := Key{ID: ke.ID, Secret: ke.Secret, Account: a.ID, Policy: policy}
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

// keepTimestampsAsText retags timestamp scalars as strings: yaml.v3 would
// turn an unquoted `Version: 2012-10-17` into a time.Time.
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

func (b *builder) addOrg(i int, o *orgEntry) {
	where := fmt.Sprintf("organizations[%d] %q", i, o.ID)
	ok := true
	if !orgIDRE.MatchString(o.ID) {
		b.problem("%s: organization id must match %s", where, orgIDRE)
		ok = false
	}
	switch {
	case o.ManagementAccount == "":
		b.problem("%s: management_account is missing", where)
		ok = false
	case !b.listed[o.ManagementAccount]:
		b.problem("%s: management_account %q is not listed under accounts", where, o.ManagementAccount)
		ok = false
	}
	if !ok {
		return // without a valid id and management account there are no ARNs
	}
	org := Organization{ID: o.ID, ARN: OrgARN(o.ManagementAccount, o.ID), ManagementAccount: o.ManagementAccount}
	w := &orgWalk{builder: b, org: &org, members: make(map[string]string)}
	w.place(fmt.Sprintf("organization %q root", o.ID), o.Accounts, nil, &org.Accounts)
	for j := range o.Units {
		w.addOU(fmt.Sprintf("organization %q: units[%d]", o.ID, j), &o.Units[j], "", nil)
	}
	if _, in := w.members[o.ManagementAccount]; !in {
		w.place(fmt.Sprintf("organization %q root (as its management account)", o.ID),
			[]string{o.ManagementAccount}, nil, &org.Accounts)
	}
	b.d.orgs = append(b.d.orgs, org)
}

func (w *orgWalk) addOU(where string, u *ouEntry, parent string, above []string) {
	where = fmt.Sprintf("%s %q", where, u.ID)
	switch {
	case !ouIDRE.MatchString(u.ID):
		w.problem("%s: OU id must match %s", where, ouIDRE)
		return
	case w.ouSeen[u.ID] != "":
		w.problem("%s: OU id already used in organization %q", where, w.ouSeen[u.ID])
		return
	}
	w.ouSeen[u.ID] = w.org.ID
	// A fresh slice per OU: siblings must not share the backing array.
	path := append(slices.Clip(above), OUARN(w.org.ManagementAccount, w.org.ID, u.ID))
	w.org.OUs = append(w.org.OUs, OU{ID: u.ID, ARN: path[len(path)-1], Parent: parent})
	idx := len(w.org.OUs) - 1
	var direct []string
	w.place(fmt.Sprintf("organization %q OU %q", w.org.ID, u.ID), u.Accounts, path, &direct)
	w.org.OUs[idx].Accounts = direct
	for j := range u.Units {
		w.addOU(fmt.Sprintf("%s: units[%d]", where, j), &u.Units[j], u.ID, path)
	}
}

// place makes each account a member at the given OU path.
func (w *orgWalk) place(where string, accounts []string, ouARNs []string, into *[]string) {
	for _, id := range accounts {
		switch m := w.d.accounts[id]; {
		case !accountIDRE.MatchString(id):
			w.problem("%s: account id %q must be exactly 12 digits", where, id)
		case w.members[id] != "":
			w.problem("%s: account %q already appears in %s", where, id, w.members[id])
		case m != nil && m.orgID != "":
			w.problem("%s: account %q already belongs to organization %q", where, id, m.orgID)
		default:
			if m == nil {
				m = &member{} // a member without keys (see the package comment)
				w.d.accounts[id] = m
			}
			m.orgID, m.orgARN = w.org.ID, w.org.ARN
			if len(ouARNs) > 0 {
				m.ouARNs = ouARNs
			}
			w.members[id] = where
			*into = append(*into, id)
		}
	}
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
