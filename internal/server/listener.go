package server

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/amigo-ec2/amigo/internal/awserr"
	"github.com/amigo-ec2/amigo/internal/query"
)

// LimitListener caps the open connections accepted from ln at max (every
// connection, probes included). Past the cap a new connection is answered
// 503 Unavailable with the EC2 error and closed, rather than left waiting in
// the kernel's queue, so a client learns at once and retries. max ≤ 0 means
// no cap. refused, when not nil, is called for each connection refused
// (the metrics' count).
func LimitListener(ln net.Listener, max int, refused func()) net.Listener {
	if max <= 0 {
		return ln
	}
	if refused == nil {
		refused = func() {}
	}
	return &limitListener{Listener: ln, max: int64(max), refused: refused}
}

type limitListener struct {
	net.Listener
	max      int64
	refused  func()
	open     atomic.Int64
	refusing atomic.Int64
}

// maxRefusing bounds the goroutines answering refused connections; past
// it they are closed without a word.
const maxRefusing = 64

// refuseTimeout bounds the time spent answering one refused connection.
const refuseTimeout = time.Second

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused()
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			c.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			refuse(c)
		}()
	}
}

// Open is the number of connections open now.
func (l *limitListener) Open() int { return int(l.open.Load()) }

// refuse answers the first request on c with the 503 and closes c. The
// answer waits for the request's head (an answer before the request
// confuses clients), and what else was sent is drained briefly, so the close
// does not reset the connection under the answer. A client that sends no
// head within refuseTimeout is closed without one.
func refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseTimeout))
	if !readHead(c, 16<<10) {
		return
	}
	_, _ = c.Write(refusal())
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, c, 64<<10)
}

// readHead reads from c until the blank line that ends a request head, at
// most limit bytes.
func readHead(c net.Conn, limit int) bool {
	var buf [2048]byte
	var tail []byte
	for n := 0; n < limit; {
		k, err := c.Read(buf[:])
		if k > 0 {
			n += k
			tail = append(tail, buf[:k]...)
			if bytes.Contains(tail, []byte("\r\n\r\n")) {
				return true
			}
			if len(tail) > 3 {
				tail = append(tail[:0], tail[len(tail)-3:]...)
			}
		}
		if err != nil {
			return false
		}
	}
	return true
}

var refusalBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func refusal() []byte {
	body := refusalBufs.Get().(*bytes.Buffer)
	defer refusalBufs.Put(body)
	body.Reset()
	query.EncodeErrorXML(body, awserr.CodeUnavailable, msgOverloaded, uuid.NewString())
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml;charset=UTF-8\r\nServer: AmazonEC2\r\nConnection: close\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(body.Len()))
	b.WriteString("\r\n\r\n")
	b.Write(body.Bytes())
	return b.Bytes()
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
