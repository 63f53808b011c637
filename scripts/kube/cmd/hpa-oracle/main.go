// Command hpa-oracle answers replica-calculator cases with kube-controller-manager's own code: the
// pinned release's exported podautoscaler.ReplicaCalculator over its REST metrics client (fed by
// fake metrics clientsets that answer what the case says) and a pod lister over an in-memory
// indexer. It reads one JSON case per line on stdin and writes one JSON result per line.
//
// horizontal.go's per-source dispatch (computeStatusFor*) is unexported, so the few lines that pick
// the calculator method and wrap its error are restated here; the arithmetic is all upstream's.
//
// groupPods reads the wall clock, so a case's times are written against a fixed epoch (caseEpoch)
// and shifted here to the current whole second; the TypeScript side evaluates at caseEpoch + 0.5 s.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	corelisters "k8s.io/client-go/listers/core/v1"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/controller/podautoscaler"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
	"k8s.io/kubernetes/pkg/features"
	cmapi "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emapi "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	metricsapi "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"
	cmfake "k8s.io/metrics/pkg/client/custom_metrics/fake"
	emfake "k8s.io/metrics/pkg/client/external_metrics/fake"
)

// caseEpoch is the "now" cases are written against.
var caseEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type controllerSettings struct {
	Tolerance                            float64 `json:"tolerance"`
	CPUInitializationPeriodSeconds       int64   `json:"cpuInitializationPeriodSeconds"`
	DelayOfInitialReadinessStatusSeconds int64   `json:"delayOfInitialReadinessStatusSeconds"`
}

type caseInput struct {
	Controller      controllerSettings                             `json:"controller"`
	CurrentReplicas int32                                          `json:"currentReplicas"`
	SpecReplicas    *int32                                         `json:"specReplicas"`
	Metric          autoscalingv2.MetricSpec                       `json:"metric"`
	Selector        *metav1.LabelSelector                          `json:"selector"`
	Pods            []v1.Pod                                       `json:"pods"`
	MetricResponse  json.RawMessage                                `json:"metricResponse"`
	Behavior        *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
	Namespace       string                                         `json:"namespace"`
}

type caseLine struct {
	ID    int       `json:"id"`
	Input caseInput `json:"input"`
}

type result struct {
	ID          int    `json:"id"`
	Replicas    *int32 `json:"replicas,omitempty"`
	Utilization *int32 `json:"utilization,omitempty"`
	// RawMilli is the usage (or raw utilization) in milli-units, as a decimal string (int64)
	RawMilli string `json:"rawMilli,omitempty"`
	// Timestamp is epoch milliseconds relative to caseEpoch's frame (Go's zero time stays zero)
	Timestamp *int64 `json:"timestamp,omitempty"`
	Error     string `json:"error,omitempty"`
}

// tolerances mirrors podautoscaler.Tolerances, whose fields are unexported; the layout is the same.
type tolerances struct{ scaleDown, scaleUp float64 }

func (t tolerances) upstream() podautoscaler.Tolerances {
	return *(*podautoscaler.Tolerances)(unsafe.Pointer(&t))
}

// tolerancesFor restates horizontal.go's tolerancesForHpa.
func tolerancesFor(in *caseInput) tolerances {
	t := tolerances{in.Controller.Tolerance, in.Controller.Tolerance}
	b := in.Behavior
	if b == nil || !utilfeature.DefaultFeatureGate.Enabled(features.HPAConfigurableTolerance) {
		return t
	}
	if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
		t.scaleDown = b.ScaleDown.Tolerance.AsApproximateFloat64()
	}
	if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
		t.scaleUp = b.ScaleUp.Tolerance.AsApproximateFloat64()
	}
	return t
}

func shift(t *metav1.Time, d time.Duration) {
	if t != nil && !t.IsZero() {
		t.Time = t.Add(d)
	}
}

type responseKind struct {
	Kind  string  `json:"kind"`
	Error *string `json:"error"`
}

// clients builds fake metrics clientsets that answer with the case's response (or its error).
func clients(raw json.RawMessage, d time.Duration) (metricsclient.MetricsClient, error) {
	var head responseKind
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	fail := func() (bool, runtime.Object, error) { return true, nil, errors.New(*head.Error) }
	wrongKind := func(want string) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("the server answered a %s where a %s was expected", head.Kind, want)
	}
	var podMetrics *metricsapi.PodMetricsList
	var custom *cmapi.MetricValueList
	var external *emapi.ExternalMetricValueList
	switch {
	case head.Error != nil:
	case head.Kind == "PodMetricsList":
		podMetrics = &metricsapi.PodMetricsList{}
		if err := json.Unmarshal(raw, podMetrics); err != nil {
			return nil, err
		}
		for i := range podMetrics.Items {
			shift(&podMetrics.Items[i].Timestamp, d)
		}
	case head.Kind == "MetricValueList":
		custom = &cmapi.MetricValueList{}
		if err := json.Unmarshal(raw, custom); err != nil {
			return nil, err
		}
		for i := range custom.Items {
			shift(&custom.Items[i].Timestamp, d)
		}
	case head.Kind == "ExternalMetricValueList":
		external = &emapi.ExternalMetricValueList{}
		if err := json.Unmarshal(raw, external); err != nil {
			return nil, err
		}
		for i := range external.Items {
			shift(&external.Items[i].Timestamp, d)
		}
	default:
		return nil, fmt.Errorf("unknown metric response kind %q", head.Kind)
	}

	resourceClient := &metricsfake.Clientset{}
	resourceClient.AddReactor("list", "pods", func(core.Action) (bool, runtime.Object, error) {
		if head.Error != nil {
			return fail()
		}
		if podMetrics == nil {
			return wrongKind("PodMetricsList")
		}
		return true, podMetrics.DeepCopy(), nil
	})
	customClient := &cmfake.FakeCustomMetricsClient{}
	customClient.AddReactor("get", "*", func(core.Action) (bool, runtime.Object, error) {
		if head.Error != nil {
			return fail()
		}
		if custom == nil {
			return wrongKind("MetricValueList")
		}
		return true, custom.DeepCopy(), nil
	})
	externalClient := &emfake.FakeExternalMetricsClient{}
	externalClient.AddReactor("list", "*", func(core.Action) (bool, runtime.Object, error) {
		if head.Error != nil {
			return fail()
		}
		if external == nil {
			return wrongKind("ExternalMetricValueList")
		}
		return true, external.DeepCopy(), nil
	})
	return metricsclient.NewRESTMetricsClient(resourceClient.MetricsV1beta1(), customClient, externalClient), nil
}

// outcome is what horizontal.go's computeStatusFor* helpers return for one metric.
type outcome struct {
	replicas    int32
	utilization *int32
	raw         int64
	timestamp   time.Time
	err         error
}

func compute(ctx context.Context, in *caseInput, now time.Time) (outcome, error) {
	d := now.Truncate(time.Second).Sub(caseEpoch)
	for i := range in.Pods {
		p := &in.Pods[i]
		shift(p.DeletionTimestamp, d)
		shift(p.Status.StartTime, d)
		for j := range p.Status.Conditions {
			shift(&p.Status.Conditions[j].LastTransitionTime, d)
			shift(&p.Status.Conditions[j].LastProbeTime, d)
		}
	}
	mc, err := clients(in.MetricResponse, d)
	if err != nil {
		return outcome{}, err
	}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for i := range in.Pods {
		if err := indexer.Add(&in.Pods[i]); err != nil {
			return outcome{}, err
		}
	}
	calc := podautoscaler.NewReplicaCalculator(mc, corelisters.NewPodLister(indexer),
		time.Duration(in.Controller.CPUInitializationPeriodSeconds)*time.Second,
		time.Duration(in.Controller.DelayOfInitialReadinessStatusSeconds)*time.Second)
	selector, err := metav1.LabelSelectorAsSelector(in.Selector)
	if err != nil {
		return outcome{}, err
	}
	tol := tolerancesFor(in).upstream()
	ns := in.Namespace
	specReplicas := in.CurrentReplicas
	if in.SpecReplicas != nil {
		specReplicas = *in.SpecReplicas
	}
	statusReplicas := in.CurrentReplicas
	spec := in.Metric
	var o outcome
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		var name v1.ResourceName
		var target autoscalingv2.MetricTarget
		container := ""
		if spec.Type == autoscalingv2.ResourceMetricSourceType {
			name, target = spec.Resource.Name, spec.Resource.Target
		} else {
			name, target, container = spec.ContainerResource.Name, spec.ContainerResource.Target, spec.ContainerResource.Container
		}
		if target.AverageValue != nil {
			o.replicas, o.raw, o.timestamp, o.err = calc.GetRawResourceReplicas(ctx, specReplicas, target.AverageValue.MilliValue(), name, tol, ns, selector, container)
			if o.err != nil {
				o.err = fmt.Errorf("failed to get %s usage: %w", name, o.err)
			}
		} else if target.AverageUtilization == nil {
			o.err = errors.New("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
		} else {
			var u int32
			o.replicas, u, o.raw, o.timestamp, o.err = calc.GetResourceReplicas(ctx, specReplicas, *target.AverageUtilization, name, tol, ns, selector, container)
			o.utilization = &u
			if o.err != nil {
				o.err = fmt.Errorf("failed to get %s utilization: %w", name, o.err)
			}
		}
	case autoscalingv2.PodsMetricSourceType:
		metricSelector, err := metav1.LabelSelectorAsSelector(spec.Pods.Metric.Selector)
		if err != nil {
			o.err = err
			break
		}
		o.replicas, o.raw, o.timestamp, o.err = calc.GetMetricReplicas(specReplicas, spec.Pods.Target.AverageValue.MilliValue(), spec.Pods.Metric.Name, tol, ns, selector, metricSelector)
	case autoscalingv2.ObjectMetricSourceType:
		metricSelector, err := metav1.LabelSelectorAsSelector(spec.Object.Metric.Selector)
		if err != nil {
			o.err = err
			break
		}
		t := spec.Object.Target
		if t.Type == autoscalingv2.ValueMetricType && t.Value != nil {
			o.replicas, o.raw, o.timestamp, o.err = calc.GetObjectMetricReplicas(specReplicas, t.Value.MilliValue(), spec.Object.Metric.Name, tol, ns, &spec.Object.DescribedObject, selector, metricSelector)
		} else if t.Type == autoscalingv2.AverageValueMetricType && t.AverageValue != nil {
			o.replicas, o.raw, o.timestamp, o.err = calc.GetObjectPerPodMetricReplicas(statusReplicas, t.AverageValue.MilliValue(), spec.Object.Metric.Name, tol, ns, &spec.Object.DescribedObject, metricSelector)
			if o.err != nil {
				o.err = fmt.Errorf("failed to get %s object metric: %w", spec.Object.Metric.Name, o.err)
			}
		} else {
			o.err = errors.New("invalid object metric source: neither a value target nor an average value target was set")
		}
	case autoscalingv2.ExternalMetricSourceType:
		t := spec.External.Target
		if t.AverageValue != nil {
			o.replicas, o.raw, o.timestamp, o.err = calc.GetExternalPerPodMetricReplicas(statusReplicas, t.AverageValue.MilliValue(), spec.External.Metric.Name, tol, ns, spec.External.Metric.Selector)
			if o.err != nil {
				o.err = fmt.Errorf("failed to get %s external metric: %w", spec.External.Metric.Name, o.err)
			}
		} else if t.Value != nil {
			o.replicas, o.raw, o.timestamp, o.err = calc.GetExternalMetricReplicas(specReplicas, t.Value.MilliValue(), spec.External.Metric.Name, tol, ns, spec.External.Metric.Selector, selector)
			if o.err != nil {
				o.err = fmt.Errorf("failed to get external metric %s: %w", spec.External.Metric.Name, o.err)
			}
		} else {
			o.err = errors.New("invalid external metric source: neither a value target nor an average value target was set")
		}
	default:
		o.err = fmt.Errorf("unknown metric source type %q", string(spec.Type))
	}
	if !o.timestamp.IsZero() {
		o.timestamp = o.timestamp.Add(-d)
	}
	return o, nil
}

// steadyNow waits out the last tenth of a second so that groupPods' clock and the shift agree on
// the whole second.
func steadyNow() time.Time {
	now := time.Now()
	if now.Nanosecond() > 900_000_000 {
		time.Sleep(time.Duration(1_000_000_000-now.Nanosecond()) + time.Millisecond)
		now = time.Now()
	}
	return now
}

func answer(ctx context.Context, line []byte) result {
	var c caseLine
	if err := json.Unmarshal(line, &c); err != nil {
		return result{ID: c.ID, Error: "oracle: bad case: " + err.Error()}
	}
	o, err := compute(ctx, &c.Input, steadyNow())
	if err != nil {
		return result{ID: c.ID, Error: "oracle: bad case: " + err.Error()}
	}
	r := result{ID: c.ID}
	if o.err != nil {
		r.Error = o.err.Error()
		return r
	}
	r.Replicas = &o.replicas
	r.Utilization = o.utilization
	r.RawMilli = fmt.Sprint(o.raw)
	ts := o.timestamp.UnixMilli()
	r.Timestamp = &ts
	return r
}

func main() {
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		if err := enc.Encode(answer(ctx, in.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// the caller writes the next case only after reading enough answers, so answer at once
		_ = out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = out.Flush()
}
