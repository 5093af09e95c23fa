package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
	"github.com/amigo-ec2/amigo/internal/store/internal/record"
)

// findQuery turns q into one SELECT over images ordered by image_id; ok is
// false when q can match nothing (a malformed value, see matchable).
//
// It has the shape of the sqlite engine's: each selective field becomes a
// condition an index answers, and VisibleTo or GrantedAny, when nothing else
// narrows the query, become the driver instead: a set of candidate ids
// gathered from the owner and grantee indexes. Lists travel as arrays, so
// the statement text, which pgx prepares and caches, depends only on which
// fields are set. Region "" (an export) reads every region: the correlated
// tests then filter a walk of the whole table, ordered by id and region.
func findQuery(q image.Query) (sql string, args []any, ok bool) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + record.ImageColumns + ` FROM images i WHERE `)
	region := ""
	if q.Region != "" {
		if !matchable(q.Region) {
			return "", nil, false
		}
		region = b.arg(q.Region)
		b.sql.WriteString(`i.region = ` + region)
	} else {
		b.sql.WriteString(`true`)
	}

	ids, ok := matchableOnly(q.IDs)
	if !ok {
		return "", nil, false
	}
	if len(ids) > 0 {
		b.and(`i.image_id = ANY(` + b.arg(ids) + `)`)
	}
	// OwnerIDs OR OwnerAliases; a list left empty by malformed values
	// matches nothing.
	owners, _ := matchableOnly(q.OwnerIDs)
	aliases, _ := matchableOnly(q.OwnerAliases)
	if len(q.OwnerIDs) > 0 || len(q.OwnerAliases) > 0 {
		switch {
		case len(owners) > 0 && len(aliases) > 0:
			b.and(`(i.owner_id = ANY(` + b.arg(owners) + `) OR i.owner_alias = ANY(` + b.arg(aliases) + `))`)
		case len(owners) == 1:
			// Equality, not = ANY, which PostgreSQL 15 cannot walk an
			// index in order by: images_owner_id then gives the page in
			// id order without a sort.
			b.and(`i.owner_id = ` + b.arg(owners[0]))
		case len(owners) > 0:
			b.and(`i.owner_id = ANY(` + b.arg(owners) + `)`)
		case len(aliases) > 0:
			b.and(`i.owner_alias = ANY(` + b.arg(aliases) + `)`)
		default:
			return "", nil, false
		}
	}
	if q.Name != "" {
		if !matchable(q.Name) {
			return "", nil, false
		}
		b.and(`i.name = ` + b.arg(q.Name))
	}
	if q.NamePrefix != "" {
		if !matchable(q.NamePrefix) {
			return "", nil, false
		}
		// A range, not LIKE (which would need escaping): with COLLATE "C"
		// it is a bytewise range on the name indexes.
		if hi, ok := prefixEnd(q.NamePrefix); ok {
			b.and(`i.name >= ` + b.arg(q.NamePrefix) + ` AND i.name < ` + b.arg(hi))
		} else {
			b.and(`i.name >= ` + b.arg(q.NamePrefix))
		}
	}
	if !q.IncludeDeregistered {
		b.and(`i.state <> ` + b.arg(image.StateDeregistered))
	}
	var r idRange
	if q.AfterID != "" {
		r.after = b.arg(q.AfterID)
		b.and(`i.image_id > ` + r.after)
	}
	if q.ThroughID != "" {
		r.through = b.arg(q.ThroughID)
		b.and(`i.image_id <= ` + r.through)
	}

	indexed := region == "" || len(ids) > 0 || len(owners) > 0 || len(aliases) > 0 || q.Name != "" || q.NamePrefix != ""
	if len(q.GrantedAny) > 0 {
		var kinds, values []string
		for _, p := range q.GrantedAny {
			if matchable(string(p.Kind)) && matchable(p.Value) {
				kinds = append(kinds, string(p.Kind))
				values = append(values, p.Value)
			}
		}
		if len(kinds) == 0 {
			return "", nil, false
		}
		if indexed {
			b.and(`EXISTS (SELECT 1 FROM launch_permissions lp
WHERE lp.region = i.region AND lp.image_id = i.image_id AND ` + b.grantTerm("lp.", kinds, values) + `)`)
		} else {
			b.and(`i.image_id IN (` + b.grantBranch(region, r, kinds, values) + `)`)
			indexed = true
		}
	}
	if v := q.VisibleTo; v != nil {
		kinds, values := viewerGrants(*v)
		account := b.arg(v.Account)
		disabled := b.arg(image.StateDisabled)
		if indexed {
			// image.(*Image).VisibleTo as a test on a row found otherwise:
			// owner, or not disabled and public or granted.
			b.and(`(i.owner_id = ` + account + ` OR (i.state <> ` + disabled + ` AND (i.is_public OR EXISTS (SELECT 1 FROM launch_permissions lp
WHERE lp.region = i.region AND lp.image_id = i.image_id AND ` + b.grantTerm("lp.", kinds, values) + `))))`)
		} else {
			// A superset of the visible ids, each branch an index search:
			// the viewer's own images and those granted to the public, its
			// account, organization or OUs. Dropping disabled images it
			// does not own makes it exact.
			owned := r.where(`SELECT image_id FROM images WHERE region = `+region+` AND owner_id = `+account, "image_id")
			kinds = append(kinds, string(image.Public.Kind))
			values = append(values, image.Public.Value)
			b.and(`i.image_id IN (` + owned + ` UNION ALL ` + b.grantBranch(region, r, kinds, values) + `)`)
			b.and(`(i.owner_id = ` + account + ` OR i.state <> ` + disabled + `)`)
		}
	}

	b.sql.WriteString(` ORDER BY i.image_id`)
	if region == "" {
		b.sql.WriteString(`, i.region`)
	}
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ` + b.arg(q.Limit))
	}
	return b.sql.String(), b.args, true
}

// viewerGrants returns the launch permissions that name v, as parallel
// arrays of kind and value; values that cannot be stored are left out.
func viewerGrants(v resource.Viewer) (kinds, values []string) {
	add := func(kind image.PermissionKind, value string) {
		if matchable(value) {
			kinds = append(kinds, string(kind))
			values = append(values, value)
		}
	}
	add(image.PermUser, v.Account)
	if v.OrgARN != "" {
		add(image.PermOrg, v.OrgARN)
	}
	for _, ou := range v.OUARNs {
		add(image.PermOU, ou)
	}
	return kinds, values
}

type queryBuilder struct {
	sql  strings.Builder
	args []any
}

// arg adds a parameter and returns its placeholder.
func (b *queryBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return placeholder(len(b.args))
}

func (b *queryBuilder) and(cond string) {
	b.sql.WriteString(" AND ")
	b.sql.WriteString(cond)
}

// grantTerm matches launch permission rows (columns prefixed by col) equal
// to any (kind, value) pair of the arrays.
func (b *queryBuilder) grantTerm(col string, kinds, values []string) string {
	return `(` + col + `kind, ` + col + `value) IN (SELECT * FROM unnest(` + b.arg(kinds) + `::text[], ` + b.arg(values) + `::text[]))`
}

// grantBranch selects the ids of images holding any (kind, value) pair of
// the arrays: one search of the grantee index per pair.
func (b *queryBuilder) grantBranch(region string, r idRange, kinds, values []string) string {
	return r.where(`SELECT lp.image_id FROM unnest(`+b.arg(kinds)+`::text[], `+b.arg(values)+`::text[]) AS g(kind, value)
JOIN launch_permissions lp ON lp.kind = g.kind AND lp.value = g.value
WHERE lp.region = `+region, "lp.image_id")
}

// idRange holds the placeholders of Query's AfterID and ThroughID ("" when
// unset), which every candidate branch applies inside its index search.
type idRange struct{ after, through string }

// where adds the range, on column col, to a branch's conditions.
func (r idRange) where(s, col string) string {
	if r.after != "" {
		s += ` AND ` + col + ` > ` + r.after
	}
	if r.through != "" {
		s += ` AND ` + col + ` <= ` + r.through
	}
	return s
}

// prefixEnd returns the least string greater than every string starting with
// prefix, in bytewise (code point) order, which is how COLLATE "C" compares.
// Unlike the sqlite engine's it steps the last code point, not the last
// byte, because PostgreSQL accepts only valid UTF-8. ok is false when there
// is none (every code point the maximum).
func prefixEnd(prefix string) (string, bool) {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		switch r := rs[i]; {
		case r == utf8.MaxRune:
			continue
		case r == 0xD7FF: // the next code point is past the surrogates
			rs[i] = 0xE000
		default:
			rs[i] = r + 1
		}
		return string(rs[:i+1]), true
	}
	return "", false
}
