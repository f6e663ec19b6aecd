package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const maxData = 4 << 20

// The Request envelope adds service, method and field headers around the payload; this
// keeps both the request and the echoed response within the 4 MiB data limit.
const nearLimit = maxData - 64

func dial(addr string, opts ...ttrpc.ClientOpts) (*ttrpc.Client, error) {
	conn, err := net.Dial("unix", addr)
	if err != nil {
		return nil, err
	}
	return ttrpc.NewClient(conn, opts...), nil
}

func echo(ctx context.Context, c *ttrpc.Client, method string, p []byte) ([]byte, error) {
	var resp raw
	err := c.Call(ctx, service, method, &raw{b: p}, &resp)
	return resp.b, err
}

func wantStatus(err error, code codes.Code, msg string) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return fmt.Errorf("want status %v %q, got %v", code, msg, err)
	}
	if st.Code() != code || (msg != "" && st.Message() != msg) {
		return fmt.Errorf("want status %v %q, got %v %q", code, msg, st.Code(), st.Message())
	}
	return nil
}

func caseUnary(c *ttrpc.Client) error {
	got, err := echo(context.Background(), c, "Echo", []byte("hello from go"))
	if err != nil {
		return err
	}
	if string(got) != "hello from go" {
		return fmt.Errorf("echo returned %q", got)
	}
	got, err = echo(context.Background(), c, "Echo", nil)
	if err != nil || len(got) != 0 {
		return fmt.Errorf("empty echo: %q %v", got, err)
	}
	return nil
}

func caseConcurrent(c *ttrpc.Client) error {
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := []byte(fmt.Sprintf("call-%d", i))
			got, err := echo(context.Background(), c, "Echo", want)
			if err == nil && !bytes.Equal(got, want) {
				err = fmt.Errorf("call %d: got %q", i, got)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func caseLarge(c *ttrpc.Client) error {
	p := bytes.Repeat([]byte{0xa5}, nearLimit)
	got, err := echo(context.Background(), c, "Echo", p)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, p) {
		return fmt.Errorf("large echo: %d bytes back", len(got))
	}
	return nil
}

func caseOversize(c *ttrpc.Client) error {
	_, err := echo(context.Background(), c, "Echo", make([]byte, maxData+1))
	if e := wantStatus(err, codes.ResourceExhausted, ""); e != nil {
		return e
	}
	// The connection is still usable.
	return caseUnary(c)
}

func caseUnknown(c *ttrpc.Client) error {
	var resp raw
	err := c.Call(context.Background(), "nope.Svc", "X", &raw{}, &resp)
	if e := wantStatus(err, codes.Unimplemented, "service nope.Svc"); e != nil {
		return e
	}
	err = c.Call(context.Background(), service, "Nope", &raw{}, &resp)
	return wantStatus(err, codes.Unimplemented, "method Nope")
}

// The server's own deadline: the interceptor sends a 50 ms timeout_nano while the local
// context allows 10 s, so the DeadlineExceeded status must come from the server.
func caseDeadline(addr string) error {
	shorten := func(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response,
		_ *ttrpc.UnaryClientInfo, invoker ttrpc.Invoker) error {
		req.TimeoutNano = int64(50 * time.Millisecond)
		return invoker(ctx, req, resp)
	}
	c, err := dial(addr, ttrpc.WithUnaryClientInterceptor(shorten))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = echo(ctx, c, "Hang", nil)
	if e := wantStatus(err, codes.DeadlineExceeded, "context deadline exceeded"); e != nil {
		return e
	}
	if time.Since(start) > 5*time.Second {
		return errors.New("deadline answered too late")
	}
	// A local deadline: the Go client gives up by itself; the server cancels its side.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err = echo(ctx2, c, "Hang", nil); err == nil {
		return errors.New("hang returned")
	}
	return caseUnary(c)
}

func runCases(addr string, cases []string) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, name := range cases {
		switch name {
		case "unary":
			err = caseUnary(c)
		case "concurrent":
			err = caseConcurrent(c)
		case "large":
			err = caseLarge(c)
		case "oversize":
			err = caseOversize(c)
		case "unknown":
			err = caseUnknown(c)
		case "deadline":
			err = caseDeadline(addr)
		default:
			err = errors.New("unknown case")
		}
		if err != nil {
			return fmt.Errorf("case %s: %w", name, err)
		}
		fmt.Println("ok", name)
	}
	return nil
}
