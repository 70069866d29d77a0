# kvbench chart: ops/s per workload operation, one panel per thread count.
# Render: gnuplot docs/benchmarks/chart.gp
set terminal svg size 1320,840 dynamic font 'sans,10' background '#ffffff'
set output 'docs/benchmarks/chart.svg'
set datafile missing 'NaN'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel 'ops/s (log scale)'
set grid ytics
set key outside right top vertical
set xtics rotate by -35 left noenhanced
set key noenhanced
set multiplot layout 2,1
set title 'kvbench: ops/s at 1 thread (higher is better)'
plot for [i=2:11] 'docs/benchmarks/chart.dat' index 0 using i:xtic(1) title columnheader(i)
set title 'kvbench: ops/s at 8 threads (higher is better)'
plot for [i=2:11] 'docs/benchmarks/chart.dat' index 1 using i:xtic(1) title columnheader(i)
unset multiplot
