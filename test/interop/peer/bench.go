package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// bench: n echo calls of size bytes from c goroutines sharing one connection, as
// containerd shares one connection per task.
func bench(addr string, n, c, size int) error {
	cl, err := dial(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	p := make([]byte, size)
	// warm up
	for i := 0; i < 1000; i++ {
		if _, err := echo(context.Background(), cl, "Echo", p); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, n)
	var next int64 = -1
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(n) {
					return
				}
				t := time.Now()
				if _, err := echo(context.Background(), cl, "Echo", p); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		return err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(q float64) float64 { return float64(lat[int(q*float64(n-1))]) / 1e3 }
	fmt.Printf("rps=%.0f p50_us=%.1f p99_us=%.1f\n", float64(n)/elapsed.Seconds(), us(0.50),
		us(0.99))
	return nil
}
