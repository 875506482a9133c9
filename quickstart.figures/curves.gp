# Restyle: edit this file and run `gnuplot curves.gp` in this folder.
# scalelab 0.1.0: Training curves
set encoding utf8
set terminal svg size 900,620 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output 'curves.svg'
# ---- Training curves
set title 'Training curves' font ',15'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.8,0.4
set grid xtics ytics lw 1 lc rgb '#dedede'
set logscale x 10
set xrange [10638.85713:4521681.283]
set xtics ('20k' 20000, '' 30000 1, '' 40000 1, '50k' 50000, '' 60000 1, '' 70000 1, '' 80000 1, '' 90000 1, '100k' 100000, '200k' 200000, '' 300000 1, '' 400000 1, '500k' 500000, '' 600000 1, '' 700000 1, '' 800000 1, '' 900000 1, '1M' 1000000, '2M' 2000000, '' 3000000 1, '' 4000000 1)
set xlabel 'tokens seen'
set logscale y 10
set yrange [1.38408442:5.67251678]
set ytics ('1.5' 1.5, '2' 2, '3' 3, '4' 4, '5' 5)
set ylabel 'loss'
set palette defined (0 '#440154', 1 '#46327e', 2 '#365c8d', 3 '#277f8e', 4 '#1fa187', 5 '#4ac16d', 6 '#a0da39')
set logscale cb 10
set cbrange [3312:56640]
set cbtics ('5k' 5000, '10k' 10000, '20k' 20000, '30k' 30000, '50k' 50000)
set cblabel 'parameters N' offset 0.5,0
set colorbox vertical user origin graph 1.03, graph 0 size graph 0.03, graph 1
set rmargin at screen 0.8333333333
set key top right Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',13'
plot 'curves.dat' index 0 using 1:2 with lines lw 1.2 dt 1 lc palette cb 3312 notitle, \
     'curves.dat' index 1 using 1:2 with points pt 7 ps 0.9 lc palette cb 3312 notitle, \
     'curves.dat' index 2 using 1:2 with lines lw 1.2 dt 1 lc palette cb 3312 notitle, \
     'curves.dat' index 3 using 1:2 with points pt 7 ps 0.9 lc palette cb 3312 notitle, \
     'curves.dat' index 4 using 1:2 with lines lw 1.2 dt 1 lc palette cb 7272 notitle, \
     'curves.dat' index 5 using 1:2 with points pt 7 ps 0.9 lc palette cb 7272 notitle, \
     'curves.dat' index 6 using 1:2 with lines lw 1.2 dt 1 lc palette cb 7272 notitle, \
     'curves.dat' index 7 using 1:2 with points pt 7 ps 0.9 lc palette cb 7272 notitle, \
     'curves.dat' index 8 using 1:2 with lines lw 1.2 dt 1 lc palette cb 12768 notitle, \
     'curves.dat' index 9 using 1:2 with points pt 7 ps 0.9 lc palette cb 12768 notitle, \
     'curves.dat' index 10 using 1:2 with lines lw 1.2 dt 1 lc palette cb 12768 notitle, \
     'curves.dat' index 11 using 1:2 with points pt 7 ps 0.9 lc palette cb 12768 notitle, \
     'curves.dat' index 12 using 1:2 with lines lw 1.2 dt 1 lc palette cb 14496 notitle, \
     'curves.dat' index 13 using 1:2 with points pt 7 ps 0.9 lc palette cb 14496 notitle, \
     'curves.dat' index 14 using 1:2 with lines lw 1.2 dt 1 lc palette cb 14496 notitle, \
     'curves.dat' index 15 using 1:2 with points pt 7 ps 0.9 lc palette cb 14496 notitle, \
     'curves.dat' index 16 using 1:2 with lines lw 1.2 dt 1 lc palette cb 14496 notitle, \
     'curves.dat' index 17 using 1:2 with points pt 7 ps 0.9 lc palette cb 14496 notitle, \
     'curves.dat' index 18 using 1:2 with lines lw 1.2 dt 1 lc palette cb 25472 notitle, \
     'curves.dat' index 19 using 1:2 with points pt 7 ps 0.9 lc palette cb 25472 notitle, \
     'curves.dat' index 20 using 1:2 with lines lw 1.2 dt 1 lc palette cb 25472 notitle, \
     'curves.dat' index 21 using 1:2 with points pt 7 ps 0.9 lc palette cb 25472 notitle, \
     'curves.dat' index 22 using 1:2 with lines lw 1.2 dt 1 lc palette cb 56640 notitle, \
     'curves.dat' index 23 using 1:2 with points pt 7 ps 0.9 lc palette cb 56640 notitle, \
     keyentry with lines lw 1.2 dt 1 lc rgb '#666666' title 'training loss (lines)', \
     keyentry with points pt 7 ps 1.1 lc rgb '#666666' title 'evaluation loss (points)'
unset output
