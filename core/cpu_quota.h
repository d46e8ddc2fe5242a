/* cpu_quota.h - the CPUs a cgroup's CPU quota allows this process (GATEWAY.workers: auto). A
 * container limited to 2 CPUs by a quota (docker --cpus=2, a Kubernetes CPU limit) still runs on
 * every CPU of its host, so its affinity mask counts them all; a worker per host CPU would contend
 * for the quota's time. Read-only files, no state. */
#ifndef ENOKI_CPU_QUOTA_H
#define ENOKI_CPU_QUOTA_H

/* The quota of the process's cgroup, and of each ancestor it can see, as CPUs rounded up (a quota
 * of 1.5 CPUs is 2); the least of them. 0 when none is limited or nothing can be read. cgroup v2
 * (<root>/<path>/cpu.max: "max 100000" or "150000 100000") and v1 (<root>/cpu/<path>/
 * cpu.cfs_quota_us, -1 unlimited, and cpu.cfs_period_us; also under cpu,cpuacct). root is where
 * cgroups are mounted ("/sys/fs/cgroup"), proc_cgroup the process's cgroup file
 * ("/proc/self/cgroup"): parameters for the tests. */
int gw_cpu_quota(const char *root, const char *proc_cgroup);

#endif
