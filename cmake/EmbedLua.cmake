# scalelab_embed_lua(TARGET OUTPUT ROOT FILES...)
# Compiles Lua sources into a C++ table {module name, chunk name, source} so that the scalelab
# program finds its standard library without any installed files. stdlib/scalelab/x/y.lua becomes
# module "scalelab.x.y"; stdlib/scalelab/init.lua becomes "scalelab".
function(scalelab_embed_lua output root)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DROOT=${root} "-DFILES=${files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedLuaScript.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/EmbedLuaScript.cmake
    COMMENT "Embedding the Lua standard library"
    VERBATIM)
endfunction()
