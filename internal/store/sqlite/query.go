package sqlite

import (
	"strings"

	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// findQuery turns q into one SELECT of cols over images ordered by image_id.
//
// Each selective field becomes a condition SQLite can answer from an index.
// VisibleTo and GrantedAny are the exception: as correlated tests they could
// only filter rows found some other way, so when no other index narrows the
// query they become the driver instead, as a set of candidate ids gathered
// from the owner and grantee indexes (see visibleCandidates).
//
// Region "" (an export) reads every region: the correlated tests then filter
// a walk of the whole table, ordered by id and region.
func findQuery(q image.Query, cols string) (string, []any) {
	var b queryBuilder
	b.sql.WriteString(`SELECT ` + cols + ` FROM images i WHERE `)
	if q.Region != "" {
		b.sql.WriteString(`i.region = ?`)
		b.args = append(b.args, q.Region)
	} else {
		b.sql.WriteString(`1 = 1`)
	}

	if ids := padStrings(dedupe(q.IDs)); len(ids) > 0 {
		b.and(`i.image_id IN (` + placeholders(len(ids)) + `)`)
		for _, id := range ids {
			b.args = append(b.args, id)
		}
	}
	// Lists are padded to a power of two so that statement texts, which
	// the store caches prepared, stay few.
	ownerIDs, ownerAliases := padStrings(q.OwnerIDs), padStrings(q.OwnerAliases)
	switch {
	case len(ownerIDs) > 0 && len(ownerAliases) > 0:
		b.and(`(i.owner_id IN (` + placeholders(len(ownerIDs)) + `) OR i.owner_alias IN (` + placeholders(len(ownerAliases)) + `))`)
		b.addStrings(ownerIDs)
		b.addStrings(ownerAliases)
	case len(ownerIDs) > 0:
		b.and(`i.owner_id IN (` + placeholders(len(ownerIDs)) + `)`)
		b.addStrings(ownerIDs)
	case len(ownerAliases) > 0:
		b.and(`i.owner_alias IN (` + placeholders(len(ownerAliases)) + `)`)
		b.addStrings(ownerAliases)
	}
	if q.Name != "" {
		b.and(`i.name = ?`, q.Name)
	}
	if q.NamePrefix != "" {
		// A range, not LIKE: LIKE is case-insensitive in SQLite and would
		// need escaping; the range uses the name indexes bytewise.
		if hi, ok := prefixEnd(q.NamePrefix); ok {
			b.and(`i.name >= ? AND i.name < ?`, q.NamePrefix, hi)
		} else {
			b.and(`i.name >= ?`, q.NamePrefix)
		}
	}
	if !q.IncludeDeregistered {
		b.and(`i.state <> ?`, image.StateDeregistered)
	}
	if q.AfterID != "" {
		b.and(`i.image_id > ?`, q.AfterID)
	}
	if q.ThroughID != "" {
		b.and(`i.image_id <= ?`, q.ThroughID)
	}
	ids := idRange{q.AfterID, q.ThroughID}

	indexed := q.Region == "" || len(q.IDs) > 0 || len(q.OwnerIDs) > 0 || len(q.OwnerAliases) > 0 || q.Name != "" || q.NamePrefix != ""
	if len(q.GrantedAny) > 0 {
		if indexed {
			b.and(`EXISTS (SELECT 1 FROM launch_permissions lp
WHERE lp.region = i.region AND lp.image_id = i.image_id AND (` + b.permTerms("lp.", q.GrantedAny) + `))`)
		} else {
			b.and(`i.image_id IN (` + b.grantedCandidates(q.Region, ids, q.GrantedAny) + `)`)
			indexed = true
		}
	}
	if v := q.VisibleTo; v != nil {
		if indexed {
			b.visibleFilter(*v)
		} else {
			b.and(`i.image_id IN (` + b.visibleCandidates(q.Region, ids, *v) + `)`)
			// Owners see their disabled images; nobody else does.
			b.and(`(i.owner_id = ? OR i.state <> ?)`, v.Account, image.StateDisabled)
		}
	}

	b.sql.WriteString(` ORDER BY i.image_id`)
	if q.Region == "" {
		b.sql.WriteString(`, i.region`)
	}
	if q.Limit > 0 {
		b.sql.WriteString(` LIMIT ?`)
		b.args = append(b.args, q.Limit)
	}
	return b.sql.String(), b.args
}

// candidateQuery selects, from indexes alone, a superset of the ids of the
// images matching q: unordered, possibly repeated, for a caller that applies
// q itself (image.Query.Matches) to images it mostly holds in memory. ok is
// false when q has a limit without a range (a superset cannot honour it:
// a limited batch of a long listing has one, ThroughID, which bounds the
// superset) or when findQuery's indexes serve q better.
func candidateQuery(q image.Query) (query string, args []any, ok bool) {
	if q.Region == "" || len(q.IDs) > 0 || len(q.OwnerAliases) > 0 || q.Name != "" || q.NamePrefix != "" || q.Limit > 0 && q.ThroughID == "" {
		return "", nil, false
	}
	var b queryBuilder
	r := idRange{q.AfterID, q.ThroughID}
	switch {
	case len(q.OwnerIDs) > 0:
		owners := padStrings(q.OwnerIDs)
		b.args = append(b.args, q.Region)
		b.addStrings(owners)
		b.sql.WriteString(b.where(`SELECT image_id FROM images WHERE region = ? AND owner_id IN (`+placeholders(len(owners))+`)`, r))
	case len(q.GrantedAny) > 0:
		b.sql.WriteString(b.grantedCandidates(q.Region, r, q.GrantedAny))
	case q.VisibleTo != nil:
		b.sql.WriteString(b.visibleCandidates(q.Region, r, *q.VisibleTo))
	default:
		return "", nil, false
	}
	return b.sql.String(), b.args, true
}

type queryBuilder struct {
	sql  strings.Builder
	args []any
}

func (b *queryBuilder) and(cond string, args ...any) {
	b.sql.WriteString(" AND ")
	b.sql.WriteString(cond)
	b.args = append(b.args, args...)
}

func (b *queryBuilder) addStrings(ss []string) {
	for _, s := range ss {
		b.args = append(b.args, s)
	}
}

// permTerms matches launch permission rows (columns prefixed by col) equal to
// any of perms.
func (b *queryBuilder) permTerms(col string, perms []image.LaunchPermission) string {
	perms = padPerms(perms)
	terms := make([]string, len(perms))
	for i, p := range perms {
		terms[i] = `(` + col + `kind = ? AND ` + col + `value = ?)`
		b.args = append(b.args, string(p.Kind), p.Value)
	}
	return strings.Join(terms, " OR ")
}

// grantedCandidates selects the ids of images holding any of perms: one
// search of the grantee index per entry.
func (b *queryBuilder) grantedCandidates(region string, r idRange, perms []image.LaunchPermission) string {
	perms = padPerms(perms)
	branches := make([]string, len(perms))
	for i, p := range perms {
		branches[i] = b.grantBranch(region, r, `kind = ? AND value = ?`, string(p.Kind), p.Value)
	}
	return strings.Join(branches, " UNION ALL ")
}

// idRange is Query's AfterID and ThroughID, which every candidate branch
// applies inside its index search ("" = unbounded on that side).
type idRange struct{ after, through string }

// where adds the range to a branch's conditions.
func (b *queryBuilder) where(s string, r idRange) string {
	if r.after != "" {
		s += ` AND image_id > ?`
		b.args = append(b.args, r.after)
	}
	if r.through != "" {
		s += ` AND image_id <= ?`
		b.args = append(b.args, r.through)
	}
	return s
}

func (b *queryBuilder) grantBranch(region string, r idRange, cond string, args ...any) string {
	s := `SELECT image_id FROM launch_permissions WHERE region = ? AND ` + cond
	b.args = append(b.args, region)
	b.args = append(b.args, args...)
	return b.where(s, r)
}

// visibleCandidates selects a superset of the ids v may see: its own images
// plus those granted to the public, to its account, its organization or one
// of its OUs, each an index search. The caller drops disabled images that v
// does not own, which makes the set exactly image.(*Image).VisibleTo (public
// is the group/all grant row, which is_public mirrors).
func (b *queryBuilder) visibleCandidates(region string, r idRange, v resource.Viewer) string {
	b.args = append(b.args, region, v.Account)
	owned := b.where(`SELECT image_id FROM images WHERE region = ? AND owner_id = ?`, r)
	branches := []string{
		owned,
		b.grantBranch(region, r, `kind = ? AND value = ?`, string(image.Public.Kind), image.Public.Value),
		b.grantBranch(region, r, `kind = ? AND value = ?`, string(image.PermUser), v.Account),
	}
	if v.OrgARN != "" {
		branches = append(branches, b.grantBranch(region, r, `kind = ? AND value = ?`, string(image.PermOrg), v.OrgARN))
	}
	if len(v.OUARNs) > 0 {
		args := []any{string(image.PermOU)}
		ous := padStrings(v.OUARNs)
		for _, ou := range ous {
			args = append(args, ou)
		}
		branches = append(branches, b.grantBranch(region, r, `kind = ? AND value IN (`+placeholders(len(ous))+`)`, args...))
	}
	return strings.Join(branches, " UNION ALL ")
}

// visibleFilter is image.(*Image).VisibleTo as a test on an image row found
// through another index: owner, or not disabled and public or granted.
func (b *queryBuilder) visibleFilter(v resource.Viewer) {
	grants := []image.LaunchPermission{{Kind: image.PermUser, Value: v.Account}}
	if v.OrgARN != "" {
		grants = append(grants, image.LaunchPermission{Kind: image.PermOrg, Value: v.OrgARN})
	}
	for _, ou := range v.OUARNs {
		grants = append(grants, image.LaunchPermission{Kind: image.PermOU, Value: ou})
	}
	b.sql.WriteString(` AND (i.owner_id = ? OR (i.state <> ? AND (i.is_public = 1 OR EXISTS (SELECT 1 FROM launch_permissions lp
WHERE lp.region = i.region AND lp.image_id = i.image_id AND (`)
	b.args = append(b.args, v.Account, image.StateDisabled)
	b.sql.WriteString(b.permTerms("lp.", grants))
	b.sql.WriteString(`)))))`)
}

// prefixEnd returns the least string greater than every string starting with
// prefix, in bytewise order. ok is false when there is none (all 0xff bytes,
// which valid UTF-8 never contains).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// padPerms is padStrings for a list of launch permissions.
func padPerms(ps []image.LaunchPermission) []image.LaunchPermission {
	n := padCount(len(ps))
	if n == len(ps) {
		return ps
	}
	out := make([]image.LaunchPermission, n)
	copy(out, ps)
	for i := len(ps); i < n; i++ {
		out[i] = ps[len(ps)-1]
	}
	return out
}
