package resource

import "context"

// A Stream is List for an un-paged answer too long to hold at once (a
// DescribeImages without MaxResults at a million images): the matches come
// batch by batch, in key order, each batch read in its own short read
// transaction, and the caller writes one out before it asks for the next.
// Between batches nothing is held: no snapshot, no connection, and no more
// memory than one batch, so a client that reads slowly costs the store
// nothing and the server one batch.
//
// Each batch is consistent in itself; the answer as a whole is not one
// snapshot. A match that exists, unchanged, from the first batch to the
// last is listed exactly once; one created or deleted meanwhile may or may
// not be.
type Stream[R any] struct {
	batch Batch[R]
	after string
	span  int
	limit int
	done  bool
}

// Batch reads one batch of a streamed listing in its own read transaction:
// the candidates with keys after `after` — within about span keys of the
// store's key order, and at most limit of them — turned into results by
// the listing's matcher. It returns those results, how many candidates the
// store found, and the key the next batch starts after: the last
// candidate's when found == limit (the range may hold more), else the end
// of the range, or "" when no key follows it (the listing has ended).
type Batch[R any] func(ctx context.Context, after string, span, limit int) (rs []R, found int, next string, err error)

// Batch sizes of a Stream: a small first batch so the first byte of the
// answer leaves soon, then batches that keep the per-batch overhead (a
// transaction, a tag look-up) small next to the work. Memory per stream is
// one batch of candidates and their results.
const (
	FirstBatch  = 200
	StreamBatch = 1000
	// maxSpan bounds the key range of one batch when matches are sparse:
	// walking it costs one index entry per key.
	maxSpan = 1 << 20
)

// NewStream starts a streamed listing for the caller, after the page token
// when the request carries one (a token a paged answer issued continues
// it). Returns InvalidParameterValue for a token this listing did not issue
// for this caller and query.
func NewStream[R any](p *Pages, c Caller, pg Page, kind string, criteria func(*Fingerprint), b Batch[R]) (*Stream[R], error) {
	s := &Stream[R]{batch: b, limit: FirstBatch, span: 4 * FirstBatch}
	if pg.NextToken != nil {
		fp := fingerprint{kind: kind, criteria: criteria, account: c.Account, region: c.Region}
		var err error
		if s.after, err = p.open(*pg.NextToken, fp.sum()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Next returns the next results in key order, never an empty slice while
// more may follow: nil once the listing has ended. ctx bounds this call's
// work (one or more batches, until one keeps a match); the caller chooses
// it per call, so the request's deadline can cover the first batch alone.
func (s *Stream[R]) Next(ctx context.Context) ([]R, error) {
	for !s.done {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rs, found, next, err := s.batch(ctx, s.after, s.span, s.limit)
		if err != nil {
			return nil, err
		}
		s.after, s.done = next, next == ""
		// Aim each range at about one batch of candidates: halve it when
		// the batch filled before the range ended, double it when the
		// range held few.
		switch {
		case found >= s.limit:
			s.span = max(s.span/2, s.limit)
		case found < s.limit/2:
			s.span = min(2*s.span, maxSpan)
		}
		if s.limit == FirstBatch {
			s.limit, s.span = StreamBatch, min(s.span*StreamBatch/FirstBatch, maxSpan)
		}
		if len(rs) > 0 {
			return rs, nil
		}
	}
	return nil, nil
}

// StreamList is List for an un-paged answer, as a Stream: the listing's
// candidates are fetched limit at a time in key order, each batch in its
// own transaction (view), and kept there by the listing's matcher. open
// builds the listing over one transaction; kind and criteria are its Kind
// and Criteria (a token a paged answer issued continues as a stream). The
// span of Batch is not used: a listing without a key-range search reads
// by limit alone, so one batch costs at most limit candidates.
//
// It is for the listings whose answer is one result per candidate in
// candidate order (DescribeSnapshots, DescribeVolumes, DescribeTags); the
// results of a batch are those List would give for the same candidates.
func StreamList[T, C, R any](p *Pages, c Caller, pg Page, kind string, criteria func(*Fingerprint), view TxFunc[T], open func(ctx context.Context, tx T) Listing[C, R]) (*Stream[R], error) {
	return NewStream(p, c, pg, kind, criteria, func(ctx context.Context, after string, _, limit int) (rs []R, found int, next string, err error) {
		err = view(ctx, func(tx T) error {
			l := open(ctx, tx)
			cands, err := l.Fetch(after, limit)
			if err != nil {
				return err
			}
			found = len(cands)
			if found >= limit {
				next = l.Key(cands[found-1]) // more may follow
			}
			rs, err = l.Keep(cands)
			return err
		})
		return rs, found, next, err
	})
}
