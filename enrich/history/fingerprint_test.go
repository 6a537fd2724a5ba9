package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// A Friday.
	opened := time.Date(2026, 10, 2, 16, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		in       Input
		want     Fingerprint
		duration time.Duration
		peak     string
	}{
		{
			name: "resolved",
			in: Input{
				Services:       []string{"payment", "checkout", "checkout", ""},
				Alertnames:     []string{"CheckoutHighErrorRate"},
				Signature:      map[string]string{"error_rate": "sudden_increase", "latency": "", "": "spike"},
				Cause:          "deployment_regression",
				OpenedAt:       opened,
				ResolvedAt:     opened.Add(14 * time.Minute),
				Priorities:     []string{"P4", "P2", "P2", "P1", "P1"},
				ResolutionType: "rollback",
			},
			want: Fingerprint{
				Version:         FingerprintVersion,
				Signature:       map[string]string{"error_rate": "sudden_increase"},
				Services:        []string{"checkout", "payment"},
				Alertnames:      []string{"CheckoutHighErrorRate"},
				Cause:           "deployment_regression",
				TimeOfDay:       BusinessHours,
				Weekday:         "friday",
				DurationSeconds: 840,
				Severity:        []string{"P4", "P2", "P1"},
				Resolution:      "rollback",
			},
			duration: 14 * time.Minute,
			peak:     "P1",
		},
		{
			name: "open, in another time zone",
			in:   Input{Alertnames: []string{"X"}, OpenedAt: opened, Now: opened.Add(3 * time.Minute), Location: berlin},
			want: Fingerprint{
				Version:         FingerprintVersion,
				Alertnames:      []string{"X"},
				TimeOfDay:       Evening,
				Weekday:         "friday",
				DurationSeconds: 180,
				Open:            true,
			},
			duration: 3 * time.Minute,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.duration, got.Duration())
			require.Equal(t, tc.peak, got.Peak())

			data, err := json.Marshal(got)
			require.NoError(t, err)
			back, err := Decode(data)
			require.NoError(t, err)
			require.Equal(t, got, back)
		})
	}
}

func TestNewErrors(t *testing.T) {
	opened := time.Date(2026, 10, 2, 16, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{name: "no opening", in: Input{}, want: "fingerprint: the opening time is missing"},
		{name: "resolved before opening", in: Input{OpenedAt: opened, ResolvedAt: opened.Add(-time.Minute)}, want: "fingerprint: the incident ends at 2026-10-02T16:29:00Z, before it opens at 2026-10-02T16:30:00Z"},
		{name: "now before opening", in: Input{OpenedAt: opened}, want: "fingerprint: the incident ends at 0001-01-01T00:00:00Z, before it opens at 2026-10-02T16:30:00Z"},
		{name: "bad priority", in: Input{OpenedAt: opened, Now: opened, Priorities: []string{"P1", "critical"}}, want: `fingerprint: priority "critical" is not one of P1, P2, P3, P4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.in)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want string
	}{
		{name: "other version", data: `{"version":2,"services":["a"]}`, want: "decode fingerprint: version 2, want 1: recompute it"},
		{name: "no version", data: `{"services":["a"]}`, want: "decode fingerprint: version 0, want 1: recompute it"},
		{name: "not JSON", data: `{`, want: "decode fingerprint: unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.data))
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestTimeOfDay(t *testing.T) {
	day := func(weekday time.Weekday, hour, minute int) time.Time {
		// 2026-09-28 is a Monday.
		return time.Date(2026, 9, 27+int(weekday), hour, minute, 0, 0, time.UTC)
	}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{day(time.Monday, 7, 59), Night},
		{day(time.Monday, 8, 0), BusinessHours},
		{day(time.Wednesday, 17, 59), BusinessHours},
		{day(time.Wednesday, 18, 0), Evening},
		{day(time.Thursday, 22, 59), Evening},
		{day(time.Thursday, 23, 0), Night},
		{day(time.Friday, 23, 30), Night},
		{day(time.Saturday, 12, 0), Weekend},
		{day(time.Sunday, 23, 59), Weekend},
		{day(time.Monday, 0, 0), Night},
	} {
		t.Run(tc.at.Format("Mon 15:04"), func(t *testing.T) {
			require.Equal(t, tc.want, TimeOfDay(tc.at))
		})
	}
}

func TestPeak(t *testing.T) {
	for _, tc := range []struct {
		severity []string
		want     string
	}{
		{nil, ""},
		{[]string{"P4", "P2", "P1"}, "P1"},
		{[]string{"P2", "P3"}, "P2"},
		{[]string{"P3"}, "P3"},
	} {
		require.Equal(t, tc.want, Fingerprint{Severity: tc.severity}.Peak(), "%v", tc.severity)
	}
}
