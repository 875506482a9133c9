# Restyle: edit this file and run `gnuplot allocation.gp` in this folder.
# scalelab 0.1.0: Compute-optimal allocation
set encoding utf8
set terminal svg size 1440,589 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output 'allocation.svg'
set multiplot title 'Compute-optimal allocation' font ',15'
reset
set lmargin at screen 0.07673611111
set rmargin at screen 0.4774305556
set tmargin at screen 0.8764006791
set bmargin at screen 0.09932088285
# ---- Compute-optimal parameters
set title 'Compute-optimal parameters' font ',15'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.8,0.4
set grid xtics ytics lw 1 lc rgb '#dedede'
set logscale x 10
set xrange [8729312037:4.423267139e+13]
set xtics ('' 9000000000 1, '10^{10}' 1e+10, '' 2e+10 1, '' 3e+10 1, '' 4e+10 1, '' 5e+10 1, '' 6e+10 1, '' 7e+10 1, '' 8e+10 1, '' 9e+10 1, '10^{11}' 1e+11, '' 2e+11 1, '' 3e+11 1, '' 4e+11 1, '' 5e+11 1, '' 6e+11 1, '' 7e+11 1, '' 8e+11 1, '' 9e+11 1, '10^{12}' 1e+12, '' 2e+12 1, '' 3e+12 1, '' 4e+12 1, '' 5e+12 1, '' 6e+12 1, '' 7e+12 1, '' 8e+12 1, '' 9e+12 1, '10^{13}' 1e+13, '' 2e+13 1, '' 3e+13 1, '' 4e+13 1)
set xlabel 'training compute C (FLOP)'
set logscale y 10
set yrange [3562.703091:65605.44092]
set ytics ('5k' 5000, '10k' 10000, '20k' 20000, '30k' 30000, '50k' 50000)
set ylabel 'parameters N_{opt}'
unset colorbox
set key top left Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',13'
set style textbox opaque fc rgb 'white' noborder margins 2,1
set label 1 'N_{opt} = 51.3k' at 2.15e+13,51279.96102 right offset character -1.2,-0.1 tc rgb '#222222' font ',12' boxed front
set arrow 1 from first 2.15e+13, graph 0 to first 2.15e+13, graph 1 nohead dt 3 lw 1.2 lc rgb '#d62728' back
plot keyentry with lines dt 3 lw 1.2 lc rgb '#d62728' title 'question: 2.15×10^{13} FLOP', \
     'allocation.dat' index 0 using 1:2 with lines lw 2.5 dt 1 lc rgb '#1f77b4' title 'N_{opt} ∝ C^{0.341} (fitted here)', \
     'allocation.dat' index 1 using 1:2 with points pt 13 ps 1.5 lc rgb '#000000' title 'IsoFLOP minima', \
     'allocation.dat' index 2 using 1:2 with points pt 7 ps 1.8 lc rgb '#d62728' notitle
reset
set lmargin at screen 0.5767361111
set rmargin at screen 0.9774305556
set tmargin at screen 0.8764006791
set bmargin at screen 0.09932088285
# ---- Compute-optimal tokens
set title 'Compute-optimal tokens' font ',15'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.8,0.4
set grid xtics ytics lw 1 lc rgb '#dedede'
set logscale x 10
set xrange [8729312037:4.423267139e+13]
set xtics ('' 9000000000 1, '10^{10}' 1e+10, '' 2e+10 1, '' 3e+10 1, '' 4e+10 1, '' 5e+10 1, '' 6e+10 1, '' 7e+10 1, '' 8e+10 1, '' 9e+10 1, '10^{11}' 1e+11, '' 2e+11 1, '' 3e+11 1, '' 4e+11 1, '' 5e+11 1, '' 6e+11 1, '' 7e+11 1, '' 8e+11 1, '' 9e+11 1, '10^{12}' 1e+12, '' 2e+12 1, '' 3e+12 1, '' 4e+12 1, '' 5e+12 1, '' 6e+12 1, '' 7e+12 1, '' 8e+12 1, '' 9e+12 1, '10^{13}' 1e+13, '' 2e+13 1, '' 3e+13 1, '' 4e+13 1)
set xlabel 'training compute C (FLOP)'
set logscale y 10
set yrange [408365.5871:112370434.5]
set ytics ('' 500000 1, '' 600000 1, '' 700000 1, '' 800000 1, '' 900000 1, '1M' 1000000, '' 2000000 1, '' 3000000 1, '' 4000000 1, '' 5000000 1, '' 6000000 1, '' 7000000 1, '' 8000000 1, '' 9000000 1, '10M' 10000000, '' 20000000 1, '' 30000000 1, '' 40000000 1, '' 50000000 1, '' 60000000 1, '' 70000000 1, '' 80000000 1, '' 90000000 1, '100M' 100000000)
set ylabel 'tokens D_{opt}'
unset colorbox
set key top left Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',13'
set style textbox opaque fc rgb 'white' noborder margins 2,1
set label 1 'D_{opt} = 69.9M' at 2.15e+13,69877848.23 right offset character -1.2,-0.1 tc rgb '#222222' font ',12' boxed front
set arrow 1 from first 2.15e+13, graph 0 to first 2.15e+13, graph 1 nohead dt 3 lw 1.2 lc rgb '#d62728' back
plot keyentry with lines dt 3 lw 1.2 lc rgb '#d62728' title 'question: 2.15×10^{13} FLOP', \
     'allocation.dat' index 3 using 1:2 with lines lw 2.5 dt 1 lc rgb '#1f77b4' title 'D_{opt} = C/(6·N_{opt}) ∝ C^{0.659}', \
     'allocation.dat' index 4 using 1:2 with points pt 13 ps 1.5 lc rgb '#000000' title 'IsoFLOP minima', \
     'allocation.dat' index 5 using 1:2 with points pt 7 ps 1.8 lc rgb '#d62728' notitle
unset multiplot
unset output
