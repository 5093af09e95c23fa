package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// floorAnswer is an EC2 DescribeImages answer with one image, shaped like
// amigo's, about 1.5 KB.
const floorAnswer = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>8f7a2f8e-3b5c-4a63-9d1e-0c6f1a2b3c4d</requestId><imagesSet><item><platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation><blockDeviceMapping><item><ebs><deleteOnTermination>true</deleteOnTermination><snapshotId>snap-0123456789abcdef0</snapshotId><volumeSize>8</volumeSize><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs><deviceName>/dev/xvda</deviceName></item></blockDeviceMapping><description>bench image for the floor server</description><enaSupport>true</enaSupport><hypervisor>xen</hypervisor><name>bench-floor-0000000000-00000001</name><rootDeviceName>/dev/xvda</rootDeviceName><rootDeviceType>ebs</rootDeviceType><sriovNetSupport>simple</sriovNetSupport><tagSet><item><key>Env</key><value>prod</value></item><item><key>Team</key><value>platform</value></item></tagSet><virtualizationType>hvm</virtualizationType><bootMode>uefi-preferred</bootMode><deprecationTime>2028-01-01T00:00:00.000Z</deprecationTime><imdsSupport>v2.0</imdsSupport><deregistrationProtection>disabled</deregistrationProtection><imageId>ami-0123456789abcdef0</imageId><imageLocation>111122223333/bench-floor-0000000000-00000001</imageLocation><imageState>available</imageState><imageOwnerId>111122223333</imageOwnerId><creationDate>2026-01-01T00:00:00.000Z</creationDate><isPublic>false</isPublic><architecture>x86_64</architecture><imageType>machine</imageType></item></imagesSet></DescribeImagesResponse>`

// FloorHandler answers every request with the same DescribeImages XML:
// no signature check, no parsing, no store. Whatever amigo does on top of
// HTTP costs the difference between the two.
func FloorHandler() http.Handler {
	body := []byte(floorAnswer)
	length := []string{strconv.Itoa(len(body))}
	ctype := []string{"text/xml;charset=UTF-8"}
	rid := []string{"8f7a2f8e-3b5c-4a63-9d1e-0c6f1a2b3c4d"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = ctype
		h["Content-Length"] = length
		h["X-Amzn-Requestid"] = rid
		w.Write(body)
	})
}

// Floor is a running floor server.
type Floor struct {
	ln  net.Listener
	srv *http.Server
	err chan error
}

// StartFloor listens on addr ("127.0.0.1:0" for a free port) and serves
// FloorHandler until Close.
func StartFloor(addr string) (*Floor, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &Floor{ln: ln, err: make(chan error, 1),
		srv: &http.Server{Handler: FloorHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}}
	go func() { f.err <- f.srv.Serve(ln) }()
	return f, nil
}

// URL is the floor's endpoint, http://host:port/.
func (f *Floor) URL() string { return "http://" + f.ln.Addr().String() + "/" }

// Close stops the floor, letting in-flight requests finish for up to 5 s.
func (f *Floor) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	if serr := <-f.err; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
