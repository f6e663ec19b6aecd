package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
)

func unmarshalRaw(unmarshal func(interface{}) error) (*raw, error) {
	var m raw
	if err := unmarshal(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// The methods our client calls: Echo returns the payload; Big returns as many bytes as the
// payload says (decimal); Sleep waits until its context ends and returns its error;
// Deadline returns the time left on its context in nanoseconds (decimal), or "none".
func methods() map[string]ttrpc.Method {
	return map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			return unmarshalRaw(unmarshal)
		},
		"Big": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			m, err := unmarshalRaw(unmarshal)
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(string(m.b))
			if err != nil {
				return nil, err
			}
			return &raw{b: make([]byte, n)}, nil
		},
		"Sleep": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"Deadline": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				return &raw{b: []byte("none")}, nil
			}
			return &raw{b: []byte(strconv.FormatInt(int64(time.Until(dl)), 10))}, nil
		},
	}
}

func serve(addr string) error {
	s, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	s.Register(service, methods())
	l, err := net.Listen("unix", addr)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = s.Close()
		_ = os.Remove(addr)
		os.Exit(0)
	}()
	fmt.Println("ready")
	if err := s.Serve(context.Background(), l); err != nil && err != ttrpc.ErrServerClosed {
		return err
	}
	return nil
}
