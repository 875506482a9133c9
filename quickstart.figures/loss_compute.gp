# Restyle: edit this file and run `gnuplot loss_compute.gp` in this folder.
# scalelab 0.1.0: Loss against compute
set encoding utf8
set terminal svg size 900,620 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output 'loss_compute.svg'
# ---- Loss against compute
set title 'Loss against compute' font ',15'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.8,0.4
set grid xtics ytics lw 1 lc rgb '#dedede'
set logscale x 10
set xrange [939399925.7:2.656075473e+11]
set xtics ('10^{9}' 1000000000, '' 2000000000 1, '' 3000000000 1, '' 4000000000 1, '' 5000000000 1, '' 6000000000 1, '' 7000000000 1, '' 8000000000 1, '' 9000000000 1, '10^{10}' 1e+10, '' 2e+10 1, '' 3e+10 1, '' 4e+10 1, '' 5e+10 1, '' 6e+10 1, '' 7e+10 1, '' 8e+10 1, '' 9e+10 1, '10^{11}' 1e+11, '' 2e+11 1)
set xlabel 'training compute C (FLOP)'
set logscale y 10
set yrange [1.384225638:6.634941634]
set ytics ('1.5' 1.5, '2' 2, '3' 3, '4' 4, '5' 5, '6' 6)
set ylabel 'loss'
set palette defined (0 '#440154', 1 '#46327e', 2 '#365c8d', 3 '#277f8e', 4 '#1fa187', 5 '#4ac16d', 6 '#a0da39')
set logscale cb 10
set cbrange [3312:56640]
set cbtics ('5k' 5000, '10k' 10000, '20k' 20000, '30k' 30000, '50k' 50000)
set cblabel 'parameters N' offset 0.5,0
set colorbox vertical user origin graph 1.03, graph 0 size graph 0.03, graph 1
set rmargin at screen 0.8333333333
set key top right Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',13'
plot 'loss_compute.dat' index 0 using 1:2 with lines lw 1 dt 1 lc palette cb 3312 notitle, \
     'loss_compute.dat' index 1 using 1:2 with lines lw 1 dt 1 lc palette cb 7272 notitle, \
     'loss_compute.dat' index 2 using 1:2 with lines lw 1 dt 1 lc palette cb 14496 notitle, \
     'loss_compute.dat' index 3 using 1:2 with lines lw 1 dt 1 lc palette cb 3312 notitle, \
     'loss_compute.dat' index 4 using 1:2 with lines lw 1 dt 1 lc palette cb 7272 notitle, \
     'loss_compute.dat' index 5 using 1:2 with lines lw 1 dt 1 lc palette cb 12768 notitle, \
     'loss_compute.dat' index 6 using 1:2 with lines lw 1 dt 1 lc palette cb 14496 notitle, \
     'loss_compute.dat' index 7 using 1:2 with lines lw 1 dt 1 lc palette cb 25472 notitle, \
     'loss_compute.dat' index 8 using 1:2 with lines lw 1 dt 1 lc palette cb 12768 notitle, \
     'loss_compute.dat' index 9 using 1:2 with lines lw 1 dt 1 lc palette cb 14496 notitle, \
     'loss_compute.dat' index 10 using 1:2 with lines lw 1 dt 1 lc palette cb 25472 notitle, \
     'loss_compute.dat' index 11 using 1:2 with lines lw 1 dt 1 lc palette cb 56640 notitle, \
     keyentry with lines lw 1 dt 1 lc rgb '#888888' title 'training curves', \
     'loss_compute.dat' index 12 using 1:2:3 with points pt 7 ps 1.2 lc palette title 'runs (final loss)', \
     'loss_compute.dat' index 13 using 1:2 with lines lw 2.5 dt 1 lc rgb '#222222' title 'compute-efficient frontier'
unset output
