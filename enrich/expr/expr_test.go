package expr

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want Condition
		err  string
	}{
		// The shapes an alert expression takes.
		{
			name: "number on the right",
			expr: `x > 0.05`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 0.05},
		},
		{
			name: "number on the left is flipped",
			expr: `0.05 < x`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 0.05},
		},
		{
			name: "number on the left with >= is flipped",
			expr: `10 >= rate(x[5m])`,
			want: Condition{Query: `rate(x[5m])`, Comparator: "<=", Threshold: 10},
		},
		{
			name: "bool modifier is dropped",
			expr: `x > bool 0.05`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 0.05},
		},
		{
			name: "division in parentheses",
			expr: `(x / y) > 3`,
			want: Condition{Query: `x / y`, Comparator: ">", Threshold: 3},
		},
		{
			name: "division binds tighter than the comparison",
			expr: `x / y > 3`,
			want: Condition{Query: `x / y`, Comparator: ">", Threshold: 3},
		},
		{
			name: "nested parentheses",
			expr: `((((x{a="b"}) / (y))) > ((3)))`,
			want: Condition{Query: `(x{a="b"}) / (y)`, Comparator: ">", Threshold: 3},
		},
		{
			name: "threshold series with one-to-many matching",
			expr: `x > on() group_left() max(threshold_metric)`,
			want: Condition{Query: `x`, Comparator: ">", ThresholdQuery: `max(threshold_metric)`, Matching: "on () group_left ()"},
		},
		{
			name: "threshold series",
			expr: `x > some_other_series`,
			want: Condition{Query: `x`, Comparator: ">", ThresholdQuery: `some_other_series`},
		},
		{
			name: "scalar threshold",
			expr: `x > scalar(y)`,
			want: Condition{Query: `x`, Comparator: ">", ThresholdQuery: `scalar(y)`},
		},
		{
			name: "scalar threshold on the left is flipped",
			expr: `scalar(y) <= x`,
			want: Condition{Query: `x`, Comparator: ">=", ThresholdQuery: `scalar(y)`},
		},
		{
			name: "scaled threshold series with matching",
			expr: `x > on(instance) group_left 0.9 * y`,
			want: Condition{Query: `x`, Comparator: ">", ThresholdQuery: `0.9 * y`, Matching: "on (instance) group_left ()"},
		},
		{
			name: "scaled threshold series",
			expr: `x > 0.9 * y`,
			want: Condition{Query: `x`, Comparator: ">", ThresholdQuery: `0.9 * y`},
		},
		{
			name: "and: condition from the left, right side filters",
			expr: `a > 5 and b > 1`,
			want: Condition{Query: `a`, Comparator: ">", Threshold: 5, Filters: []string{`b > 1`}},
		},
		{
			name: "unless: condition from the left, right side excludes",
			expr: `x > 5 unless y`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 5, Unless: []string{`y`}},
		},
		{
			name: "equality is split",
			expr: `up == 0`,
			want: Condition{Query: `up`, Comparator: "==", Threshold: 0},
		},
		{
			name: "comparison inside an aggregation stays in the query",
			expr: `count(x > 5) > 3`,
			want: Condition{Query: `count(x > 5)`, Comparator: ">", Threshold: 3},
		},
		{
			name: "predict_linear",
			expr: `predict_linear(node_filesystem_avail_bytes[6h], 4*3600) < 0`,
			want: Condition{Query: `predict_linear(node_filesystem_avail_bytes[6h], 4 * 3600)`, Comparator: "<", Threshold: 0},
		},
		{
			name: "experimental function",
			expr: `double_exponential_smoothing(x[1h], 0.5, 0.5) > 1`,
			want: Condition{Query: `double_exponential_smoothing(x[1h], 0.5, 0.5)`, Comparator: ">", Threshold: 1},
		},
		{
			name: "offset and @ are kept",
			expr: `rate(x[5m] offset 1h @ 1700000000) > 1`,
			want: Condition{Query: `rate(x[5m] @ 1700000000.000 offset 1h)`, Comparator: ">", Threshold: 1},
		},
		{
			name: "constant product",
			expr: `x > 4 * 1024 * 1024`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 4 * 1024 * 1024},
		},
		{
			name: "constant in parentheses",
			expr: `x > (1 - 0.999) * 14.4`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: (1 - 0.999) * 14.4},
		},
		{
			name: "duration threshold",
			expr: `time() - x > 5m`,
			want: Condition{Query: `time() - x`, Comparator: ">", Threshold: 300},
		},
		{
			name: "negative, power and modulo",
			expr: `x < -(2 ^ 3) % 5`,
			want: Condition{Query: `x`, Comparator: "<", Threshold: -3},
		},
		{
			name: "range: the first comparison is the condition",
			expr: `x > 0.9 < 1`,
			want: Condition{Query: `x`, Comparator: ">", Threshold: 0.9, Filters: []string{`x < 1`}},
		},
		{
			name: "or is ambiguous",
			expr: `x > 5 or y > 3`,
			err:  "or joins alternatives",
		},
		{
			name: "absent",
			expr: `absent(up{job="x"})`,
			err:  "absent() has no threshold to forecast",
		},
		{
			name: "absent_over_time",
			expr: `absent_over_time(up{job="x"}[5m])`,
			err:  "absent_over_time() has no threshold to forecast",
		},
		{
			name: "absent and a filter",
			expr: `absent(up{job="x"}) and on() hour() > 8`,
			err:  "left side of and: absent() has no threshold to forecast",
		},
		{
			name: "number compared with number",
			expr: `1 > bool 2`,
			err:  "compares two numbers",
		},
		{
			name: "number arithmetic compared with number",
			expr: `(1 + 1) == bool 2 * 1`,
			err:  "compares two numbers",
		},
		{
			name: "no comparison",
			expr: `up{job="x"}`,
			err:  "has no comparison at the top level",
		},
		{
			name: "arithmetic at the top",
			expr: `(x > 5) * 2`,
			err:  "top-level operator * is arithmetic",
		},
		{
			name: "no and on the left of and",
			expr: `x and y > 5`,
			err:  "left side of and: x has no comparison",
		},
		{
			name: "a number cannot be vector-matched",
			expr: `x > 0.9 * on(instance) group_left y`,
			err:  "vector matching only allowed between instant vectors",
		},
		{
			name: "not PromQL",
			expr: `x >`,
			err:  "parse alert expression",
		},

		// kubernetes-mixin.
		{
			name: "KubePodCrashLooping",
			expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`,
			want: Condition{Query: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m])`, Comparator: ">=", Threshold: 1},
		},
		{
			name: "KubePodNotReady",
			expr: `sum by (namespace, pod, cluster) (
			  max by (namespace, pod, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown|Failed"})
			  * on (namespace, pod, cluster) group_left(owner_kind)
			  topk by (namespace, pod, cluster) (1, max by (namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))
			) > 0`,
			want: Condition{
				Query: `sum by (namespace, pod, cluster) (
				  max by (namespace, pod, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown|Failed"})
				  * on (namespace, pod, cluster) group_left(owner_kind)
				  topk by (namespace, pod, cluster) (1, max by (namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"})))`,
				Comparator: ">",
				Threshold:  0,
			},
		},
		{
			name: "KubeDeploymentGenerationMismatch",
			expr: `kube_deployment_status_observed_generation{job="kube-state-metrics"} != kube_deployment_metadata_generation{job="kube-state-metrics"}`,
			want: Condition{Query: `kube_deployment_status_observed_generation{job="kube-state-metrics"}`, Comparator: "!=", ThresholdQuery: `kube_deployment_metadata_generation{job="kube-state-metrics"}`},
		},
		{
			name: "KubeDeploymentReplicasMismatch",
			expr: `(
			  kube_deployment_spec_replicas{job="kube-state-metrics"} > kube_deployment_status_replicas_available{job="kube-state-metrics"}
			) and (
			  changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0
			)`,
			want: Condition{
				Query:          `kube_deployment_spec_replicas{job="kube-state-metrics"}`,
				Comparator:     ">",
				ThresholdQuery: `kube_deployment_status_replicas_available{job="kube-state-metrics"}`,
				Filters:        []string{`changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0`},
			},
		},
		{
			name: "KubeDeploymentRolloutStuck",
			expr: `kube_deployment_status_condition{condition="Progressing", status="false", job="kube-state-metrics"} != 0`,
			want: Condition{Query: `kube_deployment_status_condition{condition="Progressing", status="false", job="kube-state-metrics"}`, Comparator: "!=", Threshold: 0},
		},
		{
			name: "KubeStatefulSetUpdateNotRolledOut",
			expr: `(
			  max by (namespace, statefulset, job, cluster) (
			    kube_statefulset_status_current_revision{job="kube-state-metrics"} unless kube_statefulset_status_update_revision{job="kube-state-metrics"}
			  ) * (kube_statefulset_replicas{job="kube-state-metrics"} != kube_statefulset_status_replicas_updated{job="kube-state-metrics"})
			) and (
			  changes(kube_statefulset_status_replicas_updated{job="kube-state-metrics"}[5m]) == 0
			)`,
			err: "left side of and: the top-level operator * is arithmetic",
		},
		{
			name: "KubeDaemonSetRolloutStuck",
			expr: `(
			  (kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"} != kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"})
			  or
			  (kube_daemonset_status_number_misscheduled{job="kube-state-metrics"} != 0)
			  or
			  (kube_daemonset_status_updated_number_scheduled{job="kube-state-metrics"} != kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"})
			) and (
			  changes(kube_daemonset_status_updated_number_scheduled{job="kube-state-metrics"}[5m]) == 0
			)`,
			err: "left side of and: or joins alternatives",
		},
		{
			name: "KubeDaemonSetNotScheduled",
			expr: `kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"} - kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"} > 0`,
			want: Condition{Query: `kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"} - kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"}`, Comparator: ">", Threshold: 0},
		},
		{
			name: "KubeJobNotCompleted",
			expr: `time() - max by (namespace, job_name, cluster) (kube_job_status_start_time{job="kube-state-metrics"} and kube_job_status_active{job="kube-state-metrics"} > 0) > 43200`,
			want: Condition{Query: `time() - max by (namespace, job_name, cluster) (kube_job_status_start_time{job="kube-state-metrics"} and kube_job_status_active{job="kube-state-metrics"} > 0)`, Comparator: ">", Threshold: 43200},
		},
		{
			name: "KubeHpaReplicasMismatch",
			expr: `(kube_horizontalpodautoscaler_status_desired_replicas{job="kube-state-metrics"} != kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"})
			  and
			(kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"} > kube_horizontalpodautoscaler_spec_min_replicas{job="kube-state-metrics"})
			  and
			(kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"} < kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics"})
			  and
			changes(kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"}[15m]) == 0`,
			want: Condition{
				Query:          `kube_horizontalpodautoscaler_status_desired_replicas{job="kube-state-metrics"}`,
				Comparator:     "!=",
				ThresholdQuery: `kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"}`,
				Filters: []string{
					`kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"} > kube_horizontalpodautoscaler_spec_min_replicas{job="kube-state-metrics"}`,
					`kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"} < kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics"}`,
					`changes(kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"}[15m]) == 0`,
				},
			},
		},
		{
			name: "KubeCPUOvercommit",
			expr: `sum(namespace_cpu:kube_pod_container_resource_requests:sum{}) by (cluster) - (sum(kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) by (cluster) - max(kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) by (cluster)) > 0
			and
			(sum(kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) by (cluster) - max(kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) by (cluster)) > 0`,
			want: Condition{
				Query:      `sum by (cluster) (namespace_cpu:kube_pod_container_resource_requests:sum) - (sum by (cluster) (kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) - max by (cluster) (kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}))`,
				Comparator: ">",
				Filters:    []string{`(sum by (cluster) (kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"}) - max by (cluster) (kube_node_status_allocatable{job="kube-state-metrics",resource="cpu"})) > 0`},
			},
		},
		{
			name: "KubeMemoryOvercommit",
			expr: `sum(namespace_memory:kube_pod_container_resource_requests:sum{}) by (cluster) - (sum(kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) by (cluster) - max(kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) by (cluster)) > 0
			and
			(sum(kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) by (cluster) - max(kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) by (cluster)) > 0`,
			want: Condition{
				Query:      `sum by (cluster) (namespace_memory:kube_pod_container_resource_requests:sum) - (sum by (cluster) (kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) - max by (cluster) (kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}))`,
				Comparator: ">",
				Filters:    []string{`(sum by (cluster) (kube_node_status_allocatable{resource="memory", job="kube-state-metrics"}) - max by (cluster) (kube_node_status_allocatable{resource="memory", job="kube-state-metrics"})) > 0`},
			},
		},
		{
			name: "KubeCPUQuotaOvercommit",
			expr: `sum(min without(resource) (kube_resourcequota{job="kube-state-metrics", type="hard", resource=~"(cpu|requests.cpu)"})) by (cluster)
			  / sum(kube_node_status_allocatable{resource="cpu", job="kube-state-metrics"}) by (cluster)
			  > 1.5`,
			want: Condition{
				Query:      `sum by (cluster) (min without (resource) (kube_resourcequota{job="kube-state-metrics", type="hard", resource=~"(cpu|requests.cpu)"})) / sum by (cluster) (kube_node_status_allocatable{resource="cpu", job="kube-state-metrics"})`,
				Comparator: ">",
				Threshold:  1.5,
			},
		},
		{
			name: "KubeQuotaAlmostFull",
			expr: `kube_resourcequota{job="kube-state-metrics", type="used"}
			  / ignoring(instance, job, type)
			(kube_resourcequota{job="kube-state-metrics", type="hard"} > 0)
			  > 0.9 < 1`,
			want: Condition{
				Query:      `kube_resourcequota{job="kube-state-metrics", type="used"} / ignoring(instance, job, type) (kube_resourcequota{job="kube-state-metrics", type="hard"} > 0)`,
				Comparator: ">",
				Threshold:  0.9,
				Filters:    []string{`(kube_resourcequota{job="kube-state-metrics", type="used"} / ignoring(instance, job, type) (kube_resourcequota{job="kube-state-metrics", type="hard"} > 0)) < 1`},
			},
		},
		{
			name: "KubePersistentVolumeFillingUp critical",
			expr: `(
			  kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}
			) < 0.03
			and
			kubelet_volume_stats_used_bytes{job="kubelet"} > 0
			unless on (cluster, namespace, persistentvolumeclaim)
			kube_persistentvolumeclaim_access_mode{access_mode="ReadOnlyMany"} == 1
			unless on (cluster, namespace, persistentvolumeclaim)
			kube_persistentvolumeclaim_labels{label_excluded_from_alerts="true"} == 1`,
			want: Condition{
				Query:      `kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}`,
				Comparator: "<",
				Threshold:  0.03,
				Filters:    []string{`kubelet_volume_stats_used_bytes{job="kubelet"} > 0`},
				Unless: []string{
					`kube_persistentvolumeclaim_access_mode{access_mode="ReadOnlyMany"} == 1`,
					`kube_persistentvolumeclaim_labels{label_excluded_from_alerts="true"} == 1`,
				},
			},
		},
		{
			name: "KubePersistentVolumeFillingUp warning",
			expr: `(
			  kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}
			) < 0.15
			and
			kubelet_volume_stats_used_bytes{job="kubelet"} > 0
			and
			predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600) < 0
			unless on (cluster, namespace, persistentvolumeclaim)
			kube_persistentvolumeclaim_access_mode{access_mode="ReadOnlyMany"} == 1`,
			want: Condition{
				Query:      `kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}`,
				Comparator: "<",
				Threshold:  0.15,
				Filters: []string{
					`kubelet_volume_stats_used_bytes{job="kubelet"} > 0`,
					`predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600) < 0`,
				},
				Unless: []string{`kube_persistentvolumeclaim_access_mode{access_mode="ReadOnlyMany"} == 1`},
			},
		},
		{
			name: "KubeAPIErrorBudgetBurn",
			expr: `sum by (cluster) (apiserver_request:burnrate1h) > (14.40 * 0.01000)
			and on (cluster)
			sum by (cluster) (apiserver_request:burnrate5m) > (14.40 * 0.01000)`,
			want: Condition{
				Query:      `sum by (cluster) (apiserver_request:burnrate1h)`,
				Comparator: ">",
				Threshold:  0.144,
				Filters:    []string{`sum by (cluster) (apiserver_request:burnrate5m) > (14.40 * 0.01000)`},
			},
		},
		{
			name: "CPUThrottlingHigh",
			expr: `sum(increase(container_cpu_cfs_throttled_periods_total{container!="", job="cadvisor", }[5m])) without (id, metrics_path, name, image, endpoint, job, node)
			  / on (cluster, namespace, pod, container, instance) group_left
			sum(increase(container_cpu_cfs_periods_total{job="cadvisor", }[5m])) without (id, metrics_path, name, image, endpoint, job, node)
			  > ( 25 / 100 )`,
			want: Condition{
				Query: `sum without (id, metrics_path, name, image, endpoint, job, node) (increase(container_cpu_cfs_throttled_periods_total{container!="", job="cadvisor"}[5m]))
				  / on (cluster, namespace, pod, container, instance) group_left ()
				sum without (id, metrics_path, name, image, endpoint, job, node) (increase(container_cpu_cfs_periods_total{job="cadvisor"}[5m]))`,
				Comparator: ">",
				Threshold:  0.25,
			},
		},
		{
			name: "KubeletTooManyPods",
			expr: `count by (cluster, node) (
			  (kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1)
			  * on (cluster, namespace, pod) group_left(node)
			  group by (cluster, namespace, pod, node) (kube_pod_info{job="kube-state-metrics"})
			)
			/
			max by (cluster, node) (kube_node_status_capacity{job="kube-state-metrics", resource="pods"} != 1)
			> 0.95`,
			want: Condition{
				Query: `count by (cluster, node) (
				  (kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1)
				  * on (cluster, namespace, pod) group_left(node)
				  group by (cluster, namespace, pod, node) (kube_pod_info{job="kube-state-metrics"})
				)
				/ max by (cluster, node) (kube_node_status_capacity{job="kube-state-metrics", resource="pods"} != 1)`,
				Comparator: ">",
				Threshold:  0.95,
			},
		},
		{
			name: "KubeClientErrors",
			expr: `(sum(rate(rest_client_requests_total{job="apiserver",code=~"5.."}[5m])) by (cluster, instance, job, namespace)
			  / sum(rate(rest_client_requests_total{job="apiserver"}[5m])) by (cluster, instance, job, namespace))
			> 0.01`,
			want: Condition{
				Query:      `sum by (cluster, instance, job, namespace) (rate(rest_client_requests_total{job="apiserver",code=~"5.."}[5m])) / sum by (cluster, instance, job, namespace) (rate(rest_client_requests_total{job="apiserver"}[5m]))`,
				Comparator: ">",
				Threshold:  0.01,
			},
		},
		{
			name: "KubeNodeNotReady",
			expr: `kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"} == 0
			and on (cluster, node)
			kube_node_spec_unschedulable{job="kube-state-metrics"} == 0`,
			want: Condition{
				Query:      `kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"}`,
				Comparator: "==",
				Filters:    []string{`kube_node_spec_unschedulable{job="kube-state-metrics"} == 0`},
			},
		},
		{
			name: "KubeNodeUnreachable",
			expr: `(kube_node_spec_taint{job="kube-state-metrics",key="node.kubernetes.io/unreachable",effect="NoSchedule"}
			  unless ignoring(key,value)
			kube_node_spec_taint{job="kube-state-metrics",key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}) == 1`,
			want: Condition{
				Query: `kube_node_spec_taint{job="kube-state-metrics",key="node.kubernetes.io/unreachable",effect="NoSchedule"}
				  unless ignoring(key,value)
				kube_node_spec_taint{job="kube-state-metrics",key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}`,
				Comparator: "==",
				Threshold:  1,
			},
		},
		{
			name: "KubeletPodStartUpLatencyHigh",
			expr: `histogram_quantile(0.99, sum(rate(kubelet_pod_worker_duration_seconds_bucket{job="kubelet", metrics_path="/metrics"}[5m])) by (cluster, instance, le))
			  * on (cluster, instance) group_left(node) kubelet_node_name{job="kubelet", metrics_path="/metrics"} > 60`,
			want: Condition{
				Query: `histogram_quantile(0.99, sum by (cluster, instance, le) (rate(kubelet_pod_worker_duration_seconds_bucket{job="kubelet", metrics_path="/metrics"}[5m])))
				  * on (cluster, instance) group_left(node) kubelet_node_name{job="kubelet", metrics_path="/metrics"}`,
				Comparator: ">",
				Threshold:  60,
			},
		},
		{
			name: "KubeletClientCertificateExpiration",
			expr: `kubelet_certificate_manager_client_ttl_seconds < 604800`,
			want: Condition{Query: `kubelet_certificate_manager_client_ttl_seconds`, Comparator: "<", Threshold: 604800},
		},
		{
			name: "KubeClientCertificateExpiration",
			expr: `histogram_quantile(0.01, sum without (namespace, service, endpoint) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m]))) < 86400
			and on (job, cluster, instance)
			apiserver_client_certificate_expiration_seconds_count{job="apiserver"} > 0`,
			want: Condition{
				Query:      `histogram_quantile(0.01, sum without (namespace, service, endpoint) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m])))`,
				Comparator: "<",
				Threshold:  86400,
				Filters:    []string{`apiserver_client_certificate_expiration_seconds_count{job="apiserver"} > 0`},
			},
		},
		{
			name: "KubeletDown",
			expr: `absent(up{job="kubelet", metrics_path="/metrics"} == 1)`,
			err:  "absent() has no threshold to forecast",
		},
		{
			name: "KubeAPITerminatedRequests",
			expr: `sum by (cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m]))
			  / (sum by (cluster) (rate(apiserver_request_total{job="apiserver"}[10m])) + sum by (cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m])))
			  > 0.20`,
			want: Condition{
				Query: `sum by (cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m]))
				  / (sum by (cluster) (rate(apiserver_request_total{job="apiserver"}[10m])) + sum by (cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m])))`,
				Comparator: ">",
				Threshold:  0.2,
			},
		},
		{
			name: "KubeVersionMismatch",
			expr: `count by (cluster) (count by (git_version, cluster) (label_replace(kubernetes_build_info{job!~"kube-dns|coredns"},"git_version","$1","git_version","(v[0-9]*.[0-9]*).*"))) > 1`,
			want: Condition{
				Query:      `count by (cluster) (count by (git_version, cluster) (label_replace(kubernetes_build_info{job!~"kube-dns|coredns"},"git_version","$1","git_version","(v[0-9]*.[0-9]*).*")))`,
				Comparator: ">",
				Threshold:  1,
			},
		},

		// node-exporter mixin.
		{
			name: "NodeFilesystemSpaceFillingUp",
			expr: `(
			  node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node",fstype!="",mountpoint!=""} * 100 < 15
			and
			  predict_linear(node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""}[6h], 24*60*60) < 0
			and
			  node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0
			)`,
			want: Condition{
				Query:      `node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node",fstype!="",mountpoint!=""} * 100`,
				Comparator: "<",
				Threshold:  15,
				Filters: []string{
					`predict_linear(node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""}[6h], 24*60*60) < 0`,
					`node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0`,
				},
			},
		},
		{
			name: "NodeFilesystemAlmostOutOfSpace",
			expr: `(
			  node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node",fstype!="",mountpoint!=""} * 100 < 5
			and
			  node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0
			)`,
			want: Condition{
				Query:      `node_filesystem_avail_bytes{job="node",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node",fstype!="",mountpoint!=""} * 100`,
				Comparator: "<",
				Threshold:  5,
				Filters:    []string{`node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0`},
			},
		},
		{
			name: "NodeFilesystemFilesFillingUp",
			expr: `(
			  node_filesystem_files_free{job="node",fstype!="",mountpoint!=""} / node_filesystem_files{job="node",fstype!="",mountpoint!=""} * 100 < 40
			and
			  predict_linear(node_filesystem_files_free{job="node",fstype!="",mountpoint!=""}[6h], 24*60*60) < 0
			and
			  node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0
			)`,
			want: Condition{
				Query:      `node_filesystem_files_free{job="node",fstype!="",mountpoint!=""} / node_filesystem_files{job="node",fstype!="",mountpoint!=""} * 100`,
				Comparator: "<",
				Threshold:  40,
				Filters: []string{
					`predict_linear(node_filesystem_files_free{job="node",fstype!="",mountpoint!=""}[6h], 24*60*60) < 0`,
					`node_filesystem_readonly{job="node",fstype!="",mountpoint!=""} == 0`,
				},
			},
		},
		{
			name: "NodeNetworkReceiveErrs",
			expr: `rate(node_network_receive_errs_total{job="node"}[2m]) / rate(node_network_receive_packets_total{job="node"}[2m]) > 0.01`,
			want: Condition{Query: `rate(node_network_receive_errs_total{job="node"}[2m]) / rate(node_network_receive_packets_total{job="node"}[2m])`, Comparator: ">", Threshold: 0.01},
		},
		{
			name: "NodeHighNumberConntrackEntriesUsed",
			expr: `(node_nf_conntrack_entries{job="node"} / node_nf_conntrack_entries_limit) > 0.75`,
			want: Condition{Query: `node_nf_conntrack_entries{job="node"} / node_nf_conntrack_entries_limit`, Comparator: ">", Threshold: 0.75},
		},
		{
			name: "NodeClockSkewDetected",
			expr: `(
			  node_timex_offset_seconds{job="node"} > 0.05
			and
			  deriv(node_timex_offset_seconds{job="node"}[5m]) >= 0
			)
			or
			(
			  node_timex_offset_seconds{job="node"} < -0.05
			and
			  deriv(node_timex_offset_seconds{job="node"}[5m]) <= 0
			)`,
			err: "or joins alternatives",
		},
		{
			name: "NodeClockNotSynchronising",
			expr: `min_over_time(node_timex_sync_status{job="node"}[5m]) == 0 and node_timex_maxerror_seconds{job="node"} >= 16`,
			want: Condition{
				Query:      `min_over_time(node_timex_sync_status{job="node"}[5m])`,
				Comparator: "==",
				Filters:    []string{`node_timex_maxerror_seconds{job="node"} >= 16`},
			},
		},
		{
			name: "NodeRAIDDegraded",
			expr: `node_md_disks_required{job="node",device=~"(/dev/)?(mmcblk.p.+|nvme.+|sd.+|vd.+|xvd.+|dm-.+|md.+)"} - ignoring (state) (node_md_disks{state="active",job="node",device=~"(/dev/)?(mmcblk.p.+|nvme.+|sd.+|vd.+|xvd.+|dm-.+|md.+)"}) > 0`,
			want: Condition{
				Query:      `node_md_disks_required{job="node",device=~"(/dev/)?(mmcblk.p.+|nvme.+|sd.+|vd.+|xvd.+|dm-.+|md.+)"} - ignoring (state) (node_md_disks{state="active",job="node",device=~"(/dev/)?(mmcblk.p.+|nvme.+|sd.+|vd.+|xvd.+|dm-.+|md.+)"})`,
				Comparator: ">",
			},
		},
		{
			name: "NodeFileDescriptorLimit",
			expr: `(node_filefd_allocated{job="node"} * 100 / node_filefd_maximum{job="node"} > 70)`,
			want: Condition{Query: `node_filefd_allocated{job="node"} * 100 / node_filefd_maximum{job="node"}`, Comparator: ">", Threshold: 70},
		},
		{
			name: "NodeCPUHighUsage",
			expr: `sum without(mode) (avg without (cpu) (rate(node_cpu_seconds_total{job="node", mode!~"idle|iowait"}[2m]))) * 100 > 90`,
			want: Condition{Query: `sum without (mode) (avg without (cpu) (rate(node_cpu_seconds_total{job="node", mode!~"idle|iowait"}[2m]))) * 100`, Comparator: ">", Threshold: 90},
		},
		{
			name: "NodeSystemSaturation",
			expr: `node_load1{job="node"} / count without (cpu, mode) (node_cpu_seconds_total{job="node", mode="idle"}) > 2`,
			want: Condition{Query: `node_load1{job="node"} / count without (cpu, mode) (node_cpu_seconds_total{job="node", mode="idle"})`, Comparator: ">", Threshold: 2},
		},
		{
			name: "NodeMemoryHighUtilization",
			expr: `100 - (node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"} * 100) > 90`,
			want: Condition{Query: `100 - (node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"} * 100)`, Comparator: ">", Threshold: 90},
		},
		{
			name: "NodeDiskIOSaturation",
			expr: `rate(node_disk_io_time_weighted_seconds_total{job="node", device=~"(/dev/)?(nvme.+|sd.+|vd.+)"}[5m]) > 10`,
			want: Condition{Query: `rate(node_disk_io_time_weighted_seconds_total{job="node", device=~"(/dev/)?(nvme.+|sd.+|vd.+)"}[5m])`, Comparator: ">", Threshold: 10},
		},
		{
			name: "NodeSystemdServiceFailed",
			expr: `node_systemd_unit_state{job="node", state="failed"} == 1`,
			want: Condition{Query: `node_systemd_unit_state{job="node", state="failed"}`, Comparator: "==", Threshold: 1},
		},
		{
			name: "NodeBondingDegraded",
			expr: `(node_bonding_slaves - node_bonding_active) != 0`,
			want: Condition{Query: `node_bonding_slaves - node_bonding_active`, Comparator: "!="},
		},

		// Prometheus and Alertmanager mixins.
		{
			name: "PrometheusBadConfig",
			expr: `max_over_time(prometheus_config_last_reload_successful{job="prometheus"}[5m]) == 0`,
			want: Condition{Query: `max_over_time(prometheus_config_last_reload_successful{job="prometheus"}[5m])`, Comparator: "=="},
		},
		{
			name: "PrometheusNotificationQueueRunningFull",
			expr: `(
			  predict_linear(prometheus_notifications_queue_length{job="prometheus"}[5m], 60 * 30)
			>
			  min_over_time(prometheus_notifications_queue_capacity{job="prometheus"}[5m])
			)`,
			want: Condition{
				Query:          `predict_linear(prometheus_notifications_queue_length{job="prometheus"}[5m], 60 * 30)`,
				Comparator:     ">",
				ThresholdQuery: `min_over_time(prometheus_notifications_queue_capacity{job="prometheus"}[5m])`,
			},
		},
		{
			name: "PrometheusErrorSendingAlertsToSomeAlertmanagers",
			expr: `(rate(prometheus_notifications_errors_total{job="prometheus"}[5m]) / rate(prometheus_notifications_sent_total{job="prometheus"}[5m])) * 100 > 1`,
			want: Condition{Query: `(rate(prometheus_notifications_errors_total{job="prometheus"}[5m]) / rate(prometheus_notifications_sent_total{job="prometheus"}[5m])) * 100`, Comparator: ">", Threshold: 1},
		},
		{
			name: "PrometheusNotConnectedToAlertmanagers",
			expr: `max_over_time(prometheus_notifications_alertmanagers_discovered{job="prometheus"}[5m]) < 1`,
			want: Condition{Query: `max_over_time(prometheus_notifications_alertmanagers_discovered{job="prometheus"}[5m])`, Comparator: "<", Threshold: 1},
		},
		{
			name: "PrometheusNotIngestingSamples",
			expr: `(
			  sum without(type) (rate(prometheus_tsdb_head_samples_appended_total{job="prometheus"}[5m])) <= 0
			and
			  (
			    sum without(scrape_job) (prometheus_target_metadata_cache_entries{job="prometheus"}) > 0
			  or
			    sum without(rule_group) (prometheus_rule_group_rules{job="prometheus"}) > 0
			  )
			)`,
			want: Condition{
				Query:      `sum without (type) (rate(prometheus_tsdb_head_samples_appended_total{job="prometheus"}[5m]))`,
				Comparator: "<=",
				Filters:    []string{`sum without (scrape_job) (prometheus_target_metadata_cache_entries{job="prometheus"}) > 0 or sum without (rule_group) (prometheus_rule_group_rules{job="prometheus"}) > 0`},
			},
		},
		{
			name: "PrometheusRemoteWriteBehind",
			expr: `(
			  max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{job="prometheus"}[5m])
			- ignoring(remote_name, url) group_right
			  max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="prometheus"}[5m])
			) > 120`,
			want: Condition{
				Query: `max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{job="prometheus"}[5m])
				- ignoring(remote_name, url) group_right
				  max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="prometheus"}[5m])`,
				Comparator: ">",
				Threshold:  120,
			},
		},
		{
			name: "PrometheusRuleFailures",
			expr: `increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m]) > 0`,
			want: Condition{Query: `increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m])`, Comparator: ">"},
		},
		{
			name: "PrometheusErrorSendingAlertsToAnyAlertmanager",
			expr: "min without (alertmanager) (rate(prometheus_notifications_errors_total{job=\"prometheus\",alertmanager!~``}[5m]) / rate(prometheus_notifications_sent_total{job=\"prometheus\",alertmanager!~``}[5m])) * 100 > 3",
			want: Condition{
				Query:      `min without (alertmanager) (rate(prometheus_notifications_errors_total{job="prometheus",alertmanager!~""}[5m]) / rate(prometheus_notifications_sent_total{job="prometheus",alertmanager!~""}[5m])) * 100`,
				Comparator: ">",
				Threshold:  3,
			},
		},
		{
			name: "AlertmanagerFailedReload",
			expr: `max_over_time(alertmanager_config_last_reload_successful{job="alertmanager"}[5m]) == 0`,
			want: Condition{Query: `max_over_time(alertmanager_config_last_reload_successful{job="alertmanager"}[5m])`, Comparator: "=="},
		},
		{
			name: "AlertmanagerMembersInconsistent",
			expr: `max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m])
			< on (namespace,service) group_left
			count by (namespace,service) (max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m]))`,
			want: Condition{
				Query:          `max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m])`,
				Comparator:     "<",
				ThresholdQuery: `count by (namespace, service) (max_over_time(alertmanager_cluster_members{job="alertmanager"}[5m]))`,
				Matching:       "on (namespace, service) group_left ()",
			},
		},
		{
			name: "AlertmanagerFailedToSendAlerts",
			expr: `(rate(alertmanager_notifications_failed_total{job="alertmanager"}[5m]) / ignoring (reason) group_left rate(alertmanager_notifications_total{job="alertmanager"}[5m])) > 0.01`,
			want: Condition{
				Query:      `rate(alertmanager_notifications_failed_total{job="alertmanager"}[5m]) / ignoring (reason) group_left rate(alertmanager_notifications_total{job="alertmanager"}[5m])`,
				Comparator: ">",
				Threshold:  0.01,
			},
		},
		{
			name: "AlertmanagerClusterDown",
			expr: `(
			  count by (namespace,service) (avg_over_time(up{job="alertmanager"}[5m]) < 0.5)
			/
			  count by (namespace,service) (up{job="alertmanager"})
			) >= 0.5`,
			want: Condition{
				Query:      `count by (namespace, service) (avg_over_time(up{job="alertmanager"}[5m]) < 0.5) / count by (namespace, service) (up{job="alertmanager"})`,
				Comparator: ">=",
				Threshold:  0.5,
			},
		},
		{
			name: "AlertmanagerConfigInconsistent",
			expr: `count by (namespace,service) (count_values by (namespace,service) ("config_hash", alertmanager_config_hash{job="alertmanager"})) != 1`,
			want: Condition{
				Query:      `count by (namespace, service) (count_values by (namespace, service) ("config_hash", alertmanager_config_hash{job="alertmanager"}))`,
				Comparator: "!=",
				Threshold:  1,
			},
		},
		{
			name: "TargetDown",
			expr: `100 * (count(up == 0) BY (cluster, job, namespace, service) / count(up) BY (cluster, job, namespace, service)) > 10`,
			want: Condition{
				Query:      `100 * (count by (cluster, job, namespace, service) (up == 0) / count by (cluster, job, namespace, service) (up))`,
				Comparator: ">",
				Threshold:  10,
			},
		},
		{
			name: "Watchdog",
			expr: `vector(1)`,
			err:  "has no comparison at the top level",
		},
		{
			name: "etcdInsufficientMembers",
			expr: `sum(up{job=~".*etcd.*"} == bool 1) without (instance) < ((count(up{job=~".*etcd.*"}) without (instance) + 1) / 2)`,
			want: Condition{
				Query:          `sum without (instance) (up{job=~".*etcd.*"} == bool 1)`,
				Comparator:     "<",
				ThresholdQuery: `(count without (instance) (up{job=~".*etcd.*"}) + 1) / 2`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.expr)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			requireCondition(t, tt.want, got)
		})
	}
}

// requireCondition requires got to be want, comparing PromQL as the parser
// prints it and thresholds up to rounding.
func requireCondition(t *testing.T, want, got Condition) {
	t.Helper()
	require.InDelta(t, want.Threshold, got.Threshold, 1e-9)
	want.Threshold = got.Threshold
	want.Query = normalise(t, want.Query)
	want.ThresholdQuery = normalise(t, want.ThresholdQuery)
	for i := range want.Filters {
		want.Filters[i] = normalise(t, want.Filters[i])
	}
	for i := range want.Unless {
		want.Unless[i] = normalise(t, want.Unless[i])
	}
	require.Equal(t, want, got)
}

// normalise returns PromQL as the parser prints it, without outer
// parentheses; "" stays "".
func normalise(t *testing.T, promql string) string {
	t.Helper()
	if promql == "" {
		return ""
	}
	node, err := newParser().ParseExpr(promql)
	require.NoError(t, err, promql)
	return unwrap(node).String()
}

func TestSplitQueryParsesAgain(t *testing.T) {
	c, err := Split(`(rate(x{a="b"}[5m] offset 1h) / on(a) group_left(c) y) > 0.9 < 1`)
	require.NoError(t, err)
	for _, q := range append([]string{c.Query}, c.Filters...) {
		_, err := newParser().ParseExpr(q)
		require.NoError(t, err, q)
	}
}

func TestOrdered(t *testing.T) {
	for cmp, want := range map[string]bool{">": true, ">=": true, "<": true, "<=": true, "==": false, "!=": false, "": false} {
		require.Equal(t, want, Condition{Comparator: cmp}.Ordered(), cmp)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		cmp              string
		value, threshold float64
		want             bool
	}{
		{">", 2, 1, true},
		{">", 1, 1, false},
		{">=", 1, 1, true},
		{">=", 0, 1, false},
		{"<", 0, 1, true},
		{"<", 1, 1, false},
		{"<=", 1, 1, true},
		{"<=", 2, 1, false},
		{"==", 1, 1, true},
		{"==", 0, 1, false},
		{"!=", 0, 1, true},
		{"!=", 1, 1, false},
		{">", math.NaN(), 1, false},
		{"==", math.NaN(), math.NaN(), false},
		{"!=", math.NaN(), 1, true},
		{"=~", 1, 1, false},
		{"", 1, 1, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Compare(tt.cmp, tt.value, tt.threshold), "%v %s %v", tt.value, tt.cmp, tt.threshold)
	}
}

func TestFromGeneratorURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string
		err  string
	}{
		{
			name: "Prometheus graph link",
			url:  `http://prometheus:9090/graph?g0.expr=rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29+%3E+0.05&g0.tab=1`,
			want: `rate(http_requests_total{code=~"5.."}[5m]) > 0.05`,
		},
		{
			name: "behind a path prefix, percent-encoded spaces",
			url:  `https://example.com/prometheus/graph?g0.tab=1&g0.expr=up%20%3D%3D%200`,
			want: `up == 0`,
		},
		{
			name: "no expression",
			url:  `http://prometheus:9090/graph?g0.tab=1`,
			err:  "has no g0.expr parameter",
		},
		{
			name: "empty",
			url:  ``,
			err:  "has no g0.expr parameter",
		},
		{
			name: "not a URL",
			url:  "http://prometheus:9090/graph?g0.expr=%zz\x7f",
			err:  "parse generator URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromGeneratorURL(tt.url)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzSplit(f *testing.F) {
	for _, seed := range []string{
		`x > 0.05`,
		`0.05 < x`,
		`x > bool 0.05`,
		`(x / y) > 3`,
		`x > on() group_left() max(t)`,
		`a > 5 and b > 1 unless c`,
		`x > 5 or y > 3`,
		`absent(up{job="x"})`,
		`x > 0.9 < 1`,
		`count(x > 5) > 3`,
		`predict_linear(a[6h], 4*3600) < 0`,
		`rate(x[5m] offset 1h @ 100) > (1 - 0.999) * 14.4`,
		`scalar(y) <= x`,
		`1 > bool 2`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Split(s)
		if err != nil {
			return
		}
		require.Contains(t, []string{">", ">=", "<", "<=", "==", "!="}, c.Comparator)
		for _, q := range append([]string{c.Query}, c.Filters...) {
			_, err := newParser().ParseExpr(q)
			require.NoError(t, err, "split %q into %q", s, q)
		}
		if c.ThresholdQuery != "" {
			_, err := newParser().ParseExpr(c.ThresholdQuery)
			require.NoError(t, err, "split %q: threshold %q", s, c.ThresholdQuery)
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	exprs := []string{
		`x > 0.05`,
		`sum by (cluster) (apiserver_request:burnrate1h) > (14.40 * 0.01000) and on (cluster) sum by (cluster) (apiserver_request:burnrate5m) > (14.40 * 0.01000)`,
		`(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 15 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24*60*60) < 0 and node_filesystem_readonly{job="node",fstype!=""} == 0)`,
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range exprs {
			if _, err := Split(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}
