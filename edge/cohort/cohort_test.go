package cohort_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sectwin/sectwin/edge/cohort"
	"github.com/sectwin/sectwin/edge/secagg"
	"github.com/sectwin/sectwin/internal/testenv"
)

// TestRoundOverNATSWithDropouts: 10 collectors, 3 of which drop out mid-round (after sharing
// their keys, before their masked input). The aggregator releases exactly the survivors' sum,
// and no message it receives carries an individual value in the clear.
func TestRoundOverNATSWithDropouts(t *testing.T) {
	b := testenv.NATS(t)
	nc := b.Conn()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	members := make([]secagg.ClientID, 10)
	for i := range members {
		members[i] = secagg.ClientID(i + 1)
	}
	const length = 4
	params := func(round string) (secagg.Params, error) {
		if !strings.HasPrefix(round, "w") {
			return secagg.Params{}, fmt.Errorf("unexpected round %s", round)
		}
		return secagg.Params{Cohort: "district-7", Round: round, Members: members, Threshold: 7, Length: length}, nil
	}
	var mu sync.Mutex
	var received [][]byte
	results := make(chan *secagg.Result, 1)
	srv := &cohort.Server{NC: nc, Cohort: "district-7", Params: params, PhaseTimeout: 2 * time.Second, Log: testenv.Logger(t),
		Received: func(_ string, data []byte) {
			mu.Lock()
			received = append(received, append([]byte(nil), data...))
			mu.Unlock()
		},
		Release: func(_ context.Context, r *secagg.Result) { results <- r }}
	listening := make(chan struct{})
	srv.Ready = func() { close(listening) }
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(ctx) }()
	<-listening

	rng := rand.New(rand.NewPCG(7, 7))
	inputs := map[secagg.ClientID][]uint64{}
	for _, id := range members {
		x := make([]uint64, length)
		for i := range x {
			x[i] = rng.Uint64()>>4 | 1<<58 // distinctive 60-bit values
		}
		inputs[id] = x
	}
	p, _ := params("w42")
	dropouts := map[secagg.ClientID]bool{3: true, 6: true, 9: true}
	var wg sync.WaitGroup
	errs := make(chan error, len(members))
	for _, id := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if dropouts[id] {
				errs <- dropAfterSharing(ctx, nc, p, id)
				return
			}
			errs <- cohort.RunClient(ctx, nc, p, id, inputs[id])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var res *secagg.Result
	select {
	case res = <-results:
	case <-ctx.Done():
		t.Fatal("no release")
	}
	want := make([]uint64, length)
	for id, x := range inputs {
		if dropouts[id] {
			continue
		}
		for i := range x {
			want[i] += x[i]
		}
	}
	if fmt.Sprint(res.Sum) != fmt.Sprint(want) || len(res.Included) != 7 || len(res.Dropped) != 3 {
		t.Errorf("released %v (included %v, dropped %v), want the survivors' sum %v", res.Sum, res.Included, res.Dropped, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) < 10+10+7+7 {
		t.Errorf("the aggregator received %d messages", len(received))
	}
	for _, x := range inputs {
		for _, v := range x {
			var le, be [8]byte
			binary.LittleEndian.PutUint64(le[:], v)
			binary.BigEndian.PutUint64(be[:], v)
			for _, needle := range []string{strconv.FormatUint(v, 10), strconv.FormatInt(int64(v), 10), strconv.FormatUint(v, 16),
				hex.EncodeToString(le[:]), hex.EncodeToString(be[:]), string(le[:]), string(be[:])} {
				for _, m := range received {
					if strings.Contains(string(m), needle) {
						t.Fatalf("the aggregator received an individual value in the clear (%s)", needle)
					}
				}
			}
		}
	}
	cancel()
	if err := <-srvDone; err != nil {
		t.Error(err)
	}
}

// dropAfterSharing is a collector that advertises and shares its keys, then goes silent.
func dropAfterSharing(ctx context.Context, nc *nats.Conn, p secagg.Params, id secagg.ClientID) error {
	c, err := secagg.NewClient(p, id)
	if err != nil {
		return err
	}
	in := make(chan *nats.Msg, 16)
	sub, err := nc.ChanSubscribe(cohort.DownSubject(p.Cohort, p.Round), in)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	send := func(m secagg.Message, err error) error {
		if err != nil {
			return err
		}
		b, err := secagg.Marshal(m)
		if err != nil {
			return err
		}
		return nc.Publish(cohort.UpSubject(p.Cohort, p.Round), b)
	}
	if err := send(c.Advertise()); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg := <-in:
			m, err := secagg.Unmarshal(msg.Data)
			if err != nil {
				continue
			}
			if kl, ok := m.(*secagg.KeyList); ok {
				return send(c.ShareKeys(kl)) // and then nothing more
			}
		}
	}
}
