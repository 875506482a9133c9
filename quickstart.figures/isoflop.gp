# Restyle: edit this file and run `gnuplot isoflop.gp` in this folder.
# scalelab 0.1.0: IsoFLOP curves
set encoding utf8
set terminal svg size 900,620 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output 'isoflop.svg'
# ---- IsoFLOP curves
set title 'IsoFLOP curves' font ',15'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.8,0.4
set grid xtics ytics lw 1 lc rgb '#dedede'
set logscale x 10
set xrange [2055.657386:91256.29656]
set xtics ('3k' 3000, '5k' 5000, '10k' 10000, '20k' 20000, '30k' 30000, '50k' 50000)
set xlabel 'parameters N'
set yrange [1.386566292:3.723116182]
set ytics ('1.5' 1.5, '2' 2, '2.5' 2.5, '3' 3, '3.5' 3.5)
set ylabel 'final loss'
set palette defined (0 '#440154', 1 '#46327e', 2 '#365c8d', 3 '#277f8e', 4 '#1fa187', 5 '#4ac16d', 6 '#a0da39')
set logscale cb 10
set cbrange [2.39454754e+10:2.154422078e+11]
set cbtics ('3×10^{10}' 3e+10, '4×10^{10}' 4e+10, '5×10^{10}' 5e+10, '6×10^{10}' 6e+10, '8×10^{10}' 8e+10, '10^{11}' 1e+11, '1.5×10^{11}' 1.5e+11, '2×10^{11}' 2e+11)
set cblabel 'compute C (FLOP)' offset 0.5,0
set colorbox vertical user origin graph 1.03, graph 0 size graph 0.03, graph 1
set rmargin at screen 0.8333333333
set key top right Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',13'
plot 'isoflop.dat' index 0 using 1:2 with points pt 7 ps 1.2 lc palette cb 2.39454754e+10 notitle, \
     'isoflop.dat' index 1 using 1:2 with lines lw 1.8 dt 1 lc palette cb 2.39454754e+10 notitle, \
     'isoflop.dat' index 2 using 1:2 with points pt 7 ps 1.2 lc palette cb 7.180160266e+10 notitle, \
     'isoflop.dat' index 3 using 1:2 with lines lw 1.8 dt 1 lc palette cb 7.180160266e+10 notitle, \
     'isoflop.dat' index 4 using 1:2 with points pt 7 ps 1.2 lc palette cb 2.154422078e+11 notitle, \
     'isoflop.dat' index 5 using 1:2 with lines lw 1.8 dt 1 lc palette cb 2.154422078e+11 notitle, \
     keyentry with points pt 7 ps 1.2 lc rgb '#666666' title 'runs', \
     keyentry with lines lw 1.8 dt 1 lc rgb '#666666' title 'parabola in log N (fitted here)', \
     'isoflop.dat' index 6 using 1:2 with lines lw 1 dt 3 lc rgb '#333333' notitle, \
     'isoflop.dat' index 7 using 1:2 with points pt 13 ps 1.6 lc rgb '#000000' title 'minimum: N_{opt}(C)'
unset output
