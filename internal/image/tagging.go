package image

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/amigo-ec2/amigo/internal/awserr"
)

// maxTagResources is EC2's limit of resource ids per CreateTags/DeleteTags.
const maxTagResources = 1000

// TagKeyValue is one Tag.N of DeleteTags: Value nil means "whatever value".
type TagKeyValue struct {
	Key   string
	Value *string
}

// resourceType names what an id refers to, for DescribeTags and errors.
func resourceType(id string) string {
	switch {
	case strings.HasPrefix(id, "ami-"):
		return "image"
	case strings.HasPrefix(id, "i-"):
		return "instance"
	}
	return ""
}

// checkTaggable verifies that the caller may tag each resource: an image it
// can see (tags are the caller's own, spec §1.6) or an instance it owns.
func (s *Service) checkTaggable(ctx context.Context, tx Tx, c Caller, ids []string) error {
	for _, id := range ids {
		switch {
		case ValidImageID(id):
			img, err := s.lookup(ctx, tx, c, id)
			if err != nil {
				return err
			}
			if img.State == StateDeregistered {
				return errNotFound(id)
			}
		case ValidResourceID(id, "i"):
			inst, err := tx.Instance(ctx, c.Region, id)
			if errors.Is(err, ErrNotFound) || err == nil && inst.OwnerID != c.Account {
				return awserr.Newf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
			}
			if err != nil {
				return err
			}
		default:
			return awserr.Newf("InvalidID", "The ID '%s' is not valid", id)
		}
	}
	return nil
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
// InvalidAMIID.NotFound, InvalidInstanceID.NotFound, TagLimitExceeded,
// UnauthorizedOperation and DryRunOperation. All or nothing.
func (s *Service) CreateTags(ctx context.Context, c Caller, ids []string, tags []Tag, dryRun bool) error {
	if err := checkResourceIDs(ids); err != nil {
		return err
	}
	if len(tags) == 0 {
		return awserr.MissingParameter("Tag")
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return err
		}
	}
	return s.editTags(ctx, c, "CreateTags", ids, dryRun, func(old []Tag) ([]Tag, bool, error) {
		merged, err := mergeTags(old, tags)
		return merged, true, err
	})
}

// DeleteTags removes the caller's tags: a key alone removes it whatever its
// value, a key with a value only when the value matches, no tags at all
// removes every tag (spec §2.9).
func (s *Service) DeleteTags(ctx context.Context, c Caller, ids []string, tags []TagKeyValue, dryRun bool) error {
	if err := checkResourceIDs(ids); err != nil {
		return err
	}
	for _, t := range tags {
		if t.Key == "" {
			return awserr.MissingParameter("Tag.Key")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return awserr.New("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	return s.editTags(ctx, c, "DeleteTags", ids, dryRun, func(old []Tag) ([]Tag, bool, error) {
		kept := slices.DeleteFunc(slices.Clone(old), func(t Tag) bool {
			if len(tags) == 0 {
				return true
			}
			for _, d := range tags {
				if d.Key == t.Key && (d.Value == nil || *d.Value == t.Value) {
					return true
				}
			}
			return false
		})
		return kept, len(kept) != len(old), nil
	})
}

// editTags is the shape CreateTags and DeleteTags share: apply the policy,
// then in one transaction check every resource, answer DryRun, and let edit
// turn each resource's current tags into its new ones (changed says whether
// to write them).
func (s *Service) editTags(ctx context.Context, c Caller, action string, ids []string, dryRun bool,
	edit func(old []Tag) (tags []Tag, changed bool, err error)) error {
	if err := authorize(c, action, "*"); err != nil {
		return err
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	return s.store.Update(ctx, func(tx Tx) error {
		if err := s.checkTaggable(ctx, tx, c, ids); err != nil {
			return err
		}
		if dryRun {
			return awserr.DryRunOK()
		}
		existing, err := tx.Tags(ctx, c.Region, c.Account, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			tags, changed, err := edit(existing[id])
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

// DescribeTagsRequest is DescribeTags' input.
type DescribeTagsRequest struct {
	Filters    []Filter
	MaxResults *int32
	NextToken  *string
	DryRun     bool
}

// tagFields are DescribeTags' filters besides tag:<key>.
var tagFields = map[string]bool{"key": true, "value": true, "resource-id": true, "resource-type": true}

// DescribeTags lists the caller's tags, ordered by resource id and key.
func (s *Service) DescribeTags(ctx context.Context, c Caller, r *DescribeTagsRequest) ([]ResourceTag, string, error) {
	type tagFilter struct {
		name     string
		key      string // for tag:<key>
		patterns []pattern
	}
	var fs []tagFilter
	if len(r.Filters) > maxFilters {
		return nil, "", awserr.Newf("FilterLimitExceeded", "The maximum number of filters (%d) has been exceeded.", maxFilters)
	}
	fp := []string{"tags", c.Account, c.Region}
	q := TagQuery{Region: c.Region, Account: c.Account}
	for _, f := range r.Filters {
		if f.Name == nil || *f.Name == "" {
			return nil, "", awserr.InvalidParameterValue("The filter 'null' is invalid")
		}
		name := *f.Name
		tf := tagFilter{name: name}
		if k, ok := strings.CutPrefix(name, "tag:"); ok && k != "" {
			tf.name, tf.key = "tag", k
		} else if _, ok := tagFields[name]; !ok {
			return nil, "", awserr.InvalidParameterValue("The filter '%s' is invalid", name)
		}
		if len(f.Values) > maxValuesPerFilter {
			return nil, "", awserr.Newf("FilterLimitExceeded", "The maximum number of filter values specified on a single call is %d", maxValuesPerFilter)
		}
		literal := true
		for _, v := range f.Values {
			p := compilePattern(v)
			literal = literal && !p.wild
			tf.patterns = append(tf.patterns, p)
		}
		// Literal resource ids and keys narrow the store query.
		if literal && len(f.Values) > 0 {
			switch name {
			case "resource-id":
				q.ResourceIDs = f.Values
			case "key":
				q.Keys = f.Values
			}
		}
		fs = append(fs, tf)
		fp = append(fp, name)
		fp = append(fp, f.Values...)
	}
	if r.MaxResults != nil && (*r.MaxResults < 5 || *r.MaxResults > 1000) {
		return nil, "", awserr.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", *r.MaxResults)
	}
	if err := authorize(c, "DescribeTags", "*"); err != nil {
		return nil, "", err
	}
	if r.DryRun {
		return nil, "", awserr.DryRunOK()
	}
	tokenFP := fingerprint(fp...)
	if r.NextToken != nil {
		after, err := s.openToken(*r.NextToken, tokenFP)
		if err != nil {
			return nil, "", err
		}
		q.AfterResourceID, q.AfterKey, _ = strings.Cut(after, "\x00")
	}
	matchAny := func(ps []pattern, v string) bool {
		for _, p := range ps {
			if p.match(v) {
				return true
			}
		}
		return false
	}
	var out []ResourceTag
	next := ""
	err := s.store.View(ctx, func(tx Tx) error {
		all, err := tx.ListTags(ctx, q)
		if err != nil {
			return err
		}
		// tag:<key> filters select resources, so look at each resource's tags.
		byResource := map[string][]Tag{}
		for _, t := range all {
			byResource[t.ResourceID] = append(byResource[t.ResourceID], t.Tag)
		}
		for _, t := range all {
			ok := true
			for _, f := range fs {
				switch f.name {
				case "key":
					ok = matchAny(f.patterns, t.Key)
				case "value":
					ok = matchAny(f.patterns, t.Value)
				case "resource-id":
					ok = matchAny(f.patterns, t.ResourceID)
				case "resource-type":
					ok = matchAny(f.patterns, resourceType(t.ResourceID))
				case "tag":
					ok = slices.ContainsFunc(byResource[t.ResourceID], func(rt Tag) bool { return rt.Key == f.key && matchAny(f.patterns, rt.Value) })
				}
				if !ok {
					break
				}
			}
			if !ok {
				continue
			}
			if r.MaxResults != nil && len(out) == int(*r.MaxResults) {
				last := out[len(out)-1]
				next = s.sealToken(last.ResourceID+"\x00"+last.Key, tokenFP)
				return nil
			}
			out = append(out, t)
		}
		return nil
	})
	return out, next, err
}

// ResourceType is exported for the transport's DescribeTags answer.
func ResourceType(id string) string { return resourceType(id) }
