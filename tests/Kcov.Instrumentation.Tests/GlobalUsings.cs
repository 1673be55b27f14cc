global using Kcov.Workloads;
