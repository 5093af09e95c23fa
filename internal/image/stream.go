package image

import (
	"context"
	"errors"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// Streams reports whether DescribeImages answers r as a stream
// (StreamImages): a request without MaxResults and without image ids can
// list every image the caller may see, however many; the others are small
// by construction (a page, or the ids asked for) and need the whole answer
// before it is written (a missing id fails the request).
func (r *DescribeRequest) Streams() bool {
	return r.MaxResults == nil && len(r.ImageIDs) == 0
}

// bulkAfter is how many images a stream reads before its batches stop
// filling an engine's read cache (Query.Bulk): the listings clients repeat
// (an account's own images) stay cached, a listing of a hundred thousand
// does not evict the hot set.
const bulkAfter = 10000

// errNotStreamed is a programming error: the caller did not ask Streams.
var errNotStreamed = errors.New("image: StreamImages called for a request that does not stream")

// StreamImages is DescribeImages for a request that Streams: the same
// checks, the same images in the same order, but read batch by batch, each
// batch in its own short read transaction (resource.Stream), so that the
// answer is never held whole and a slow reader holds no snapshot. The
// caller's Allowed AMIs policy and a tag filter's candidates are read once,
// in the first batch's transaction.
//
// Returns the request's errors (those of DescribeImages but the store's);
// the stream's Next returns the store's errors and ctx's, the first call's
// before anything is written.
func (s *Service) StreamImages(ctx context.Context, c resource.Caller, r *DescribeRequest) (*resource.Stream[Described], error) {
	if !r.Streams() {
		return nil, awserr.Internal(errNotStreamed)
	}
	p, err := s.plan(c, r)
	if err != nil {
		return nil, err
	}
	if err := resource.Authorize(c, "DescribeImages", "*"); err != nil {
		return nil, err
	}
	if r.DryRun {
		return nil, awserr.DryRunOK()
	}
	pg := resource.Page{NextToken: r.NextToken}
	read := 0 // candidates read so far
	prepared := false
	return resource.NewStream(s.pages, c, pg, "images", p.criteria, func(ctx context.Context, after string, span, limit int) (rs []Described, found int, next string, err error) {
		err = s.store.View(ctx, func(tx Tx) error {
			if !prepared {
				// In the first batch's transaction: one round trip
				// fewer before the first byte on PostgreSQL.
				none, err := s.prepare(ctx, tx, c, p)
				if err != nil || none {
					return err // none: next stays "", the listing ends
				}
				prepared = true
			}
			q := p.query
			q.AfterID, q.Limit, q.Bulk = after, limit, read >= bulkAfter
			if len(q.IDs) == 0 {
				// A tag filter's ids bound the batch already; otherwise
				// cut a range of the id space, so a batch's searches stay
				// short however few of its images match.
				if q.ThroughID, err = tx.ImageIDAfter(ctx, c.Region, after, span); err != nil {
					return err
				}
			}
			imgs, err := tx.FindImages(ctx, q)
			if err != nil {
				return err
			}
			found = len(imgs)
			read += found
			switch {
			case found >= limit:
				next = imgs[found-1].ID
			default:
				next = q.ThroughID // "" when the range reached the end
			}
			rs, err = s.keep(ctx, tx, c, r, p, imgs)
			return err
		})
		return rs, found, next, err
	})
}
