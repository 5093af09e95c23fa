package resource

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the API request it serves,
// for records of the change the request makes (an AMI state change
// event's RequestId).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
