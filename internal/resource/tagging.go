package resource

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// The tag actions name resources of every kind, so they take their
// transactions as T, the Tx of the kind at the top of the dependency
// order (today instance.Tx), and ask each kind whether the caller may tag
// one of its ids.

// maxTagResources is EC2's limit of resource ids per CreateTags/DeleteTags.
const maxTagResources = 1000

// Taggable is one kind of resource the tag actions may name.
type Taggable[T any] struct {
	// Prefix is the kind's id prefix without the dash ("ami").
	Prefix string
	// Check returns nil when the caller may tag the resource with this
	// well-formed id, or the kind's NotFound error.
	Check func(ctx context.Context, tx T, c Caller, id string) error
}

// TxFunc runs fn in a transaction (a store's View or Update).
type TxFunc[T any] func(ctx context.Context, fn func(T) error) error

// Tagging serves CreateTags, DeleteTags and DescribeTags.
type Tagging[T Tx] struct {
	view, update TxFunc[T]
	pages        *Pages
	kinds        []Taggable[T]
}

// NewTagging returns the tag actions over a store's View and Update.
func NewTagging[T Tx](view, update TxFunc[T], pages *Pages, kinds ...Taggable[T]) *Tagging[T] {
	return &Tagging[T]{view: view, update: update, pages: pages, kinds: kinds}
}

// TagKeyValue is one Tag.N of DeleteTags: Value nil means "whatever value".
type TagKeyValue struct {
	Key   string
	Value *string
}

func checkResourceIDs(ids []string) error {
	if len(ids) == 0 {
		return awserr.MissingParameter("ResourceId")
	}
	if len(ids) > maxTagResources {
		return awserr.InvalidParameterValue("The maximum number of resource ids per request (%d) has been exceeded.", maxTagResources)
	}
	return nil
}

// CreateTags adds or overwrites the caller's tags on each resource (spec §2.9).
//
// Returns MissingParameter, InvalidParameterValue (tag rules), InvalidID,
// the kinds' NotFound errors, TagLimitExceeded, UnauthorizedOperation and
// DryRunOperation. All or nothing.
func (t *Tagging[T]) CreateTags(ctx context.Context, c Caller, ids []string, tags []Tag, dryRun bool) error {
	if err := checkResourceIDs(ids); err != nil {
		return err
	}
	if len(tags) == 0 {
		return awserr.MissingParameter("Tag")
	}
	for _, tg := range tags {
		if err := ValidateTag(tg); err != nil {
			return err
		}
	}
	return t.edit(ctx, c, "CreateTags", ids, dryRun, func(old []Tag) ([]Tag, bool, error) {
		merged, err := MergeTags(old, tags)
		return merged, true, err
	})
}

// DeleteTags removes the caller's tags: a key alone removes it whatever its
// value, a key with a value only when the value matches, no tags at all
// removes every tag (spec §2.9).
func (t *Tagging[T]) DeleteTags(ctx context.Context, c Caller, ids []string, tags []TagKeyValue, dryRun bool) error {
	if err := checkResourceIDs(ids); err != nil {
		return err
	}
	for _, tg := range tags {
		if tg.Key == "" {
			return awserr.MissingParameter("Tag.Key")
		}
		if err := CheckUserKey(tg.Key); err != nil {
			return err
		}
	}
	return t.edit(ctx, c, "DeleteTags", ids, dryRun, func(old []Tag) ([]Tag, bool, error) {
		kept := slices.DeleteFunc(slices.Clone(old), func(o Tag) bool {
			if len(tags) == 0 {
				return true
			}
			for _, d := range tags {
				if d.Key == o.Key && (d.Value == nil || *d.Value == o.Value) {
					return true
				}
			}
			return false
		})
		return kept, len(kept) != len(old), nil
	})
}

// edit is the shape CreateTags and DeleteTags share: apply the policy,
// then in one transaction check every resource, answer DryRun, and let
// change turn each resource's current tags into its new ones (changed says
// whether to write them).
func (t *Tagging[T]) edit(ctx context.Context, c Caller, action string, ids []string, dryRun bool,
	change func(old []Tag) (tags []Tag, changed bool, err error)) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	// EC2's tag actions take resource-level permissions: a policy may allow
	// tagging images but not instances, so each resource is asked for.
	for _, id := range ids {
		arn := ARNOf(c.Region, c.Account, id)
		if arn == "" {
			arn = "*"
		}
		if err := Authorize(c, action, arn); err != nil {
			return err
		}
	}
	return t.update(ctx, func(tx T) error {
		for _, id := range ids {
			if err := t.check(ctx, tx, c, id); err != nil {
				return err
			}
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		existing, err := tx.Tags(ctx, c.Region, c.Account, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			tags, changed, err := change(existing[id])
			if err != nil {
				return err
			}
			if changed {
				if err := tx.SetTags(ctx, c.Region, c.Account, id, tags); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// check asks the id's kind whether the caller may tag it.
func (t *Tagging[T]) check(ctx context.Context, tx T, c Caller, id string) error {
	for _, k := range t.kinds {
		if ValidResourceID(id, k.Prefix) {
			return k.Check(ctx, tx, c, id)
		}
	}
	return awserr.Newf(awserr.CodeInvalidID, "The ID '%s' is not valid", id)
}

// DescribeTagsRequest is DescribeTags' input.
type DescribeTagsRequest struct {
	Filters []Filter
	Page
	DryRun bool
}

// tagFields are DescribeTags' filters besides tag:<key> (which matches the
// resource's other tags, so a filter can select resources).
var tagFields = map[string]Field[ResourceTag]{
	"key":           func(t ResourceTag, _ []Tag) []string { return []string{t.Key} },
	"value":         func(t ResourceTag, _ []Tag) []string { return []string{t.Value} },
	"resource-id":   func(t ResourceTag, _ []Tag) []string { return []string{t.ResourceID} },
	"resource-type": func(t ResourceTag, _ []Tag) []string { return []string{TypeOf(t.ResourceID)} },
}

// DescribeTags lists the caller's tags in its region, ordered by resource
// id and key.
//
// Returns InvalidParameterValue (filters, MaxResults, NextToken),
// FilterLimitExceeded, UnauthorizedOperation and DryRunOperation.
func (t *Tagging[T]) DescribeTags(ctx context.Context, c Caller, r *DescribeTagsRequest) ([]ResourceTag, string, error) {
	p, err := planTags(c, r)
	if err != nil {
		return nil, "", err
	}
	var out []ResourceTag
	var next string
	err = t.view(ctx, func(tx T) error {
		out, next, err = List(ctx, t.pages, c, r.Page, tagListing(ctx, tx, c, p))
		return err
	})
	return out, next, err
}

// Streams reports whether DescribeTags answers r as a stream
// (StreamTags): without MaxResults it lists every tag the caller has set
// in the region, however many.
func (r *DescribeTagsRequest) Streams() bool { return r.MaxResults == nil }

// StreamTags is DescribeTags for a request that Streams: the same checks
// and the same tags in the same order, read a batch at a time, each batch
// in its own short read transaction (StreamList). Returns the request's
// errors; the stream's Next returns the store's.
func (t *Tagging[T]) StreamTags(c Caller, r *DescribeTagsRequest) (*Stream[ResourceTag], error) {
	if !r.Streams() {
		return nil, awserr.Internal(errTagsNotStreamed)
	}
	p, err := planTags(c, r)
	if err != nil {
		return nil, err
	}
	return StreamList(t.pages, c, r.Page, tagsKind, p.criteria, t.view, func(ctx context.Context, tx T) Listing[ResourceTag, ResourceTag] {
		return tagListing(ctx, tx, c, p)
	})
}

// errTagsNotStreamed is a programming error: the caller did not ask Streams.
var errTagsNotStreamed = errors.New("resource: StreamTags called for a request that does not stream")

// tagsKind names DescribeTags' listing in its tokens.
const tagsKind = "tags"

// tagsPlan is a checked DescribeTags request.
type tagsPlan struct {
	r          *DescribeTagsRequest
	fs         []CompiledFilter[ResourceTag]
	q          TagQuery
	byResource bool // a tag:<key> filter looks at each resource's other tags
}

func planTags(c Caller, r *DescribeTagsRequest) (*tagsPlan, error) {
	fs, err := CompileFilters(r.Filters, tagFields)
	if err != nil {
		return nil, err
	}
	if err := CheckMaxResults(r.MaxResults); err != nil {
		return nil, err
	}
	if err := Authorize(c, "DescribeTags", "*"); err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	p := &tagsPlan{r: r, fs: fs, q: TagQuery{Region: c.Region, Account: c.Account}}
	for i := range fs {
		// Literal resource ids and keys narrow the store's query.
		switch f := &fs[i]; f.Name {
		case "resource-id":
			p.q.ResourceIDs = f.Literals()
		case "key":
			p.q.Keys = f.Literals()
		default:
			_, tagFilter := TagFilterKey(f.Name)
			p.byResource = p.byResource || tagFilter
		}
	}
	return p, nil
}

// criteria are what a page token binds.
func (p *tagsPlan) criteria(f *Fingerprint) { f.AddFilters(p.r.Filters) }

// tagListing is a DescribeTags listing over one transaction.
func tagListing[T Tx](ctx context.Context, tx T, c Caller, p *tagsPlan) Listing[ResourceTag, ResourceTag] {
	return Listing[ResourceTag, ResourceTag]{
		Kind:     tagsKind,
		Criteria: p.criteria,
		Fetch: func(after string, limit int) ([]ResourceTag, error) {
			q := p.q
			q.AfterResourceID, q.AfterKey, _ = strings.Cut(after, "\x00")
			q.Limit = limit
			return tx.ListTags(ctx, q)
		},
		Key: tagKey,
		Keep: func(tags []ResourceTag) ([]ResourceTag, error) {
			var all map[string][]Tag
			if p.byResource {
				// tag:<key> looks at each resource's other tags too.
				ids := make([]string, 0, len(tags))
				for _, tg := range tags {
					ids = append(ids, tg.ResourceID)
				}
				var err error
				if all, err = tx.Tags(ctx, c.Region, c.Account, slices.Compact(ids)); err != nil {
					return nil, err
				}
			}
			var kept []ResourceTag
			for i, tg := range tags {
				if err := Poll(ctx, i); err != nil {
					return nil, err
				}
				if MatchAll(p.fs, tg, all[tg.ResourceID]) {
					kept = append(kept, tg)
				}
			}
			return kept, nil
		},
		ResultKey: tagKey,
	}
}

func tagKey(t ResourceTag) string { return t.ResourceID + "\x00" + t.Key }
