# kvbench chart: ops/s per workload operation, one panel per thread count.
# Render: gnuplot docs/benchmarks/chart.gp
set terminal svg size 2328,840 dynamic font 'sans,10' background '#ffffff'
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
plot 'docs/benchmarks/chart.dat' index 0 using 2:xtic(1) title columnheader(2) lc rgb '#555555' fs solid 0.9 border -1, \
     '' index 0 using 3 title columnheader(3) lc rgb '#555555' fs pattern 5 border rgb '#555555', \
     '' index 0 using 4 title columnheader(4) lc rgb '#d07a10' fs solid 0.9 border -1, \
     '' index 0 using 5 title columnheader(5) lc rgb '#f5c98a' fs solid 0.9 border -1, \
     '' index 0 using 6 title columnheader(6) lc rgb '#d07a10' fs pattern 5 border rgb '#d07a10', \
     '' index 0 using 7 title columnheader(7) lc rgb '#f5c98a' fs pattern 5 border rgb '#f5c98a', \
     '' index 0 using 8 title columnheader(8) lc rgb '#2a8a3e' fs solid 0.9 border -1, \
     '' index 0 using 9 title columnheader(9) lc rgb '#9bd6a6' fs solid 0.9 border -1, \
     '' index 0 using 10 title columnheader(10) lc rgb '#2a8a3e' fs pattern 5 border rgb '#2a8a3e', \
     '' index 0 using 11 title columnheader(11) lc rgb '#9bd6a6' fs pattern 5 border rgb '#9bd6a6', \
     '' index 0 using 12 title columnheader(12) lc rgb '#b8322a' fs solid 0.9 border -1, \
     '' index 0 using 13 title columnheader(13) lc rgb '#f0a09a' fs solid 0.9 border -1, \
     '' index 0 using 14 title columnheader(14) lc rgb '#b8322a' fs pattern 5 border rgb '#b8322a', \
     '' index 0 using 15 title columnheader(15) lc rgb '#f0a09a' fs pattern 5 border rgb '#f0a09a', \
     '' index 0 using 16 title columnheader(16) lc rgb '#1f5fa8' fs solid 0.9 border -1, \
     '' index 0 using 17 title columnheader(17) lc rgb '#8fb8e6' fs solid 0.9 border -1, \
     '' index 0 using 18 title columnheader(18) lc rgb '#1f5fa8' fs pattern 5 border rgb '#1f5fa8', \
     '' index 0 using 19 title columnheader(19) lc rgb '#8fb8e6' fs pattern 5 border rgb '#8fb8e6'
set title 'kvbench: ops/s at 8 threads (higher is better)'
plot 'docs/benchmarks/chart.dat' index 1 using 2:xtic(1) title columnheader(2) lc rgb '#555555' fs solid 0.9 border -1, \
     '' index 1 using 3 title columnheader(3) lc rgb '#555555' fs pattern 5 border rgb '#555555', \
     '' index 1 using 4 title columnheader(4) lc rgb '#d07a10' fs solid 0.9 border -1, \
     '' index 1 using 5 title columnheader(5) lc rgb '#f5c98a' fs solid 0.9 border -1, \
     '' index 1 using 6 title columnheader(6) lc rgb '#d07a10' fs pattern 5 border rgb '#d07a10', \
     '' index 1 using 7 title columnheader(7) lc rgb '#f5c98a' fs pattern 5 border rgb '#f5c98a', \
     '' index 1 using 8 title columnheader(8) lc rgb '#2a8a3e' fs solid 0.9 border -1, \
     '' index 1 using 9 title columnheader(9) lc rgb '#9bd6a6' fs solid 0.9 border -1, \
     '' index 1 using 10 title columnheader(10) lc rgb '#2a8a3e' fs pattern 5 border rgb '#2a8a3e', \
     '' index 1 using 11 title columnheader(11) lc rgb '#9bd6a6' fs pattern 5 border rgb '#9bd6a6', \
     '' index 1 using 12 title columnheader(12) lc rgb '#b8322a' fs solid 0.9 border -1, \
     '' index 1 using 13 title columnheader(13) lc rgb '#f0a09a' fs solid 0.9 border -1, \
     '' index 1 using 14 title columnheader(14) lc rgb '#b8322a' fs pattern 5 border rgb '#b8322a', \
     '' index 1 using 15 title columnheader(15) lc rgb '#f0a09a' fs pattern 5 border rgb '#f0a09a', \
     '' index 1 using 16 title columnheader(16) lc rgb '#1f5fa8' fs solid 0.9 border -1, \
     '' index 1 using 17 title columnheader(17) lc rgb '#8fb8e6' fs solid 0.9 border -1, \
     '' index 1 using 18 title columnheader(18) lc rgb '#1f5fa8' fs pattern 5 border rgb '#1f5fa8', \
     '' index 1 using 19 title columnheader(19) lc rgb '#8fb8e6' fs pattern 5 border rgb '#8fb8e6'
unset multiplot
