package secagg_test

import (
	"fmt"

	"github.com/sectwin/sectwin/edge/secagg"
)

// Example runs one round of three collectors in memory; in production each
// message travels as the bytes of secagg.Marshal (e.g. over NATS). Client 2
// drops out after sharing its keys, so the aggregate covers clients 1 and 3.
func Example() {
	p := secagg.Params{
		Cohort: "district-7", Round: "netflow/bytes/2026-04-01T10:00Z",
		Members: []secagg.ClientID{1, 2, 3}, Threshold: 2, Length: 2,
	}
	inputs := map[secagg.ClientID][]int64{1: {10, -3}, 2: {20, 5}, 3: {30, -4}}
	srv, _ := secagg.NewServer(p)
	clients := map[secagg.ClientID]*secagg.Client{}
	for _, id := range p.Members {
		clients[id], _ = secagg.NewClient(p, id) // add secagg.WithNoise(...) for DP
	}
	deliver := func(m secagg.Message, err error) {
		if err != nil {
			panic(err)
		}
		b, _ := secagg.Marshal(m)
		if err := srv.ReceiveBytes(b); err != nil {
			panic(err)
		}
	}

	for _, c := range clients { // round 0
		deliver(c.Advertise())
	}
	keyList, _ := srv.CloseAdvertise()
	for _, c := range clients { // round 1
		deliver(c.ShareKeys(keyList))
	}
	bundles, _ := srv.CloseShareKeys()
	for _, b := range bundles { // round 2: client 2 has dropped out
		if b.To != 2 {
			deliver(clients[b.To].MaskInput(b, secagg.FromInt64s(inputs[b.To])))
		}
	}
	req, _ := srv.CloseMaskedInput()
	for _, id := range req.Survivors { // round 3
		deliver(clients[id].Unmask(req))
	}
	res, err := srv.Finish()
	if err != nil {
		panic(err)
	}
	fmt.Println(secagg.ToInt64s(res.Sum), res.Included, res.Dropped)
	// Output: [40 -7] [1 3] [2]
}
