"""Kubernetes image pull secrets, the kubelet keyring and which credentials a workload's pulls would use."""
