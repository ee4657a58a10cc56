package input

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/sectwin/sectwin/edge/secret"
)

// MQTT subscribes to topics on a broker, as city sensors publish: each message is one record.
// Messages are acknowledged (QoS 1 and 2) only after the collector has taken them.
type MQTT struct {
	InputName string
	Broker    string // tcp://host:1883, ssl://host:8883, ws://…
	Topics    []string
	QoS       byte
	ClientID  string
	Username  string
	Password  secret.Value
	TLS       *tls.Config // for ssl:// brokers; nil uses the system roots
	MaxBytes  int         // 0 means DefaultMaxRecordBytes
	// Ready, when set, is called once the subscriptions are in place.
	Ready func()
}

// Name implements Input.
func (m *MQTT) Name() string { return m.InputName }

// Run implements Input: it connects (retrying while the broker is away), subscribes, and
// emits messages until ctx ends.
func (m *MQTT) Run(ctx context.Context, emit Emit) error {
	limit := limitOr(m.MaxBytes)
	handler := func(_ mqtt.Client, msg mqtt.Message) {
		data, err := msg.Payload(), error(nil)
		if len(data) > limit {
			data, err = data[:limit], ErrTooLarge
		}
		// Emit blocks while the collector is busy; the broker redelivers what was not
		// acknowledged if the collector stops first.
		_ = emit(ctx, Record{Input: m.InputName, Topic: msg.Topic(), Data: data, Err: err})
	}
	subscribed := make(chan error, 1)
	opts := mqtt.NewClientOptions().AddBroker(m.Broker).SetClientID(m.ClientID).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetOrderMatters(true).SetConnectTimeout(10 * time.Second)
	if m.Username != "" {
		opts.SetUsername(m.Username)
	}
	if !m.Password.Empty() {
		opts.SetPassword(string(m.Password.Bytes()))
	}
	if m.TLS != nil {
		opts.SetTLSConfig(m.TLS)
	}
	filters := make(map[string]byte, len(m.Topics))
	for _, t := range m.Topics {
		filters[t] = m.QoS
	}
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// (Re)subscribe on every connection: a clean session or a broker restart forgets them.
		tok := c.SubscribeMultiple(filters, handler)
		go func() {
			tok.Wait()
			select {
			case subscribed <- tok.Error():
			default:
			}
		}()
	})
	c := mqtt.NewClient(opts)
	conn := c.Connect()
	defer c.Disconnect(250)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-conn.Done():
		if err := conn.Error(); err != nil {
			return fmt.Errorf("mqtt input %s: connect to %s: %w", m.InputName, m.Broker, err)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-subscribed:
		if err != nil {
			return fmt.Errorf("mqtt input %s: subscribe: %w", m.InputName, err)
		}
	}
	if m.Ready != nil {
		m.Ready()
	}
	<-ctx.Done()
	return ctx.Err()
}
